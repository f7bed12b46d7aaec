import { ApiError, type Problem } from './api/client.ts';
import type { Lang } from './i18n.ts';

/**
 * What a buyer or seller reads when the API refuses: a sentence per stable `code`, in the
 * chosen language — never the raw problem+json. Codes without a sentence here show the
 * server's own `detail` (always a sentence) or `title`.
 */
const messages: Record<string, { en: string; ko: string }> = {
  VALIDATION_FAILED: { en: 'Some fields need fixing.', ko: '입력값을 확인해 주세요.' },
  UNAUTHENTICATED: { en: 'Your session has ended. Please sign in again.', ko: '로그인이 만료되었습니다. 다시 로그인해 주세요.' },
  FORBIDDEN: { en: 'Your account may not do this.', ko: '이 계정으로는 할 수 없는 작업입니다.' },
  NOT_FOUND: { en: 'It does not exist (any more).', ko: '찾을 수 없습니다.' },
  RATE_LIMITED: { en: 'Too many requests. Please wait a moment and try again.', ko: '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.' },
  SERVICE_UNAVAILABLE: { en: 'The service is busy. Please try again in a few seconds.', ko: '서비스가 잠시 바쁩니다. 몇 초 후 다시 시도해 주세요.' },
  NETWORK: { en: 'Could not reach MOS. Check your connection and try again.', ko: '서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.' },
  INTERNAL_ERROR: { en: 'Something went wrong on our side. Please try again.', ko: '서버에서 문제가 생겼습니다. 다시 시도해 주세요.' },
  EMAIL_TAKEN: { en: 'This email is registered already. Sign in instead.', ko: '이미 가입된 이메일입니다. 로그인해 주세요.' },
  INVALID_CREDENTIALS: { en: 'Wrong email or password.', ko: '이메일 또는 비밀번호가 올바르지 않습니다.' },
  SALE_NOT_OPEN: { en: 'The sale has not opened yet.', ko: '아직 예매가 시작되지 않았습니다.' },
  SALE_CLOSED: { en: 'The sale is closed.', ko: '예매가 마감되었습니다.' },
  QUOTA_EXCEEDED: { en: 'This would go over your account’s limit.', ko: '계정 한도를 넘습니다.' },
  NOT_IN_QUEUE: { en: 'You are not in the queue (any more). Join it again.', ko: '대기열에 없습니다. 다시 입장해 주세요.' },
  WAITING_ROOM_DISABLED: { en: 'This showtime has no waiting room.', ko: '이 회차는 대기열이 없습니다.' },
  ADMISSION_REQUIRED: {
    en: 'Your turn in the waiting room has ended. Please join the queue again.',
    ko: '대기열 입장 시간이 끝났습니다. 대기열에 다시 들어가 주세요.',
  },
  SEAT_UNAVAILABLE: { en: 'Some of these seats were just taken by someone else.', ko: '일부 좌석이 방금 다른 분에게 넘어갔습니다.' },
  HOLD_LIMIT_EXCEEDED: { en: 'That is more seats than one buyer may hold for this showtime.', ko: '한 회차에 한 사람이 잡을 수 있는 좌석 수를 넘었습니다.' },
  SEATS_NOT_HELD: { en: 'Your hold on these seats has lapsed. Pick them again.', ko: '좌석 선점 시간이 지났습니다. 다시 골라 주세요.' },
  HOLD_IN_ORDER: {
    en: 'This seat is on your unpaid order. Cancel the order to release it.',
    ko: '결제 대기 중인 주문의 좌석입니다. 주문을 취소하면 해제됩니다.',
  },
  NOT_CANCELLABLE: { en: 'This order can no longer be cancelled.', ko: '이 주문은 더 이상 취소할 수 없습니다.' },
  SOLD_OUT: { en: 'All coupons of this campaign are gone.', ko: '쿠폰이 모두 소진되었습니다.' },
  ALREADY_CLAIMED: { en: 'You already have this coupon.', ko: '이미 받은 쿠폰입니다.' },
  CLAIM_NOT_OPEN: { en: 'This coupon cannot be claimed right now.', ko: '지금은 이 쿠폰을 받을 수 없습니다.' },
  COUPON_NOT_APPLICABLE: { en: 'That coupon cannot be used on this order.', ko: '이 주문에 쓸 수 없는 쿠폰입니다.' },
  AMOUNT_MISMATCH: { en: 'The amount paid is not the order’s amount. Nothing was charged.', ko: '결제 금액이 주문 금액과 다릅니다. 청구되지 않았습니다.' },
  PAYMENT_REJECTED: { en: 'The payment was declined. You can pay again.', ko: '결제가 거절되었습니다. 다시 결제할 수 있습니다.' },
  ORDER_EXPIRED: { en: 'This order can no longer be paid; any charge has been cancelled.', ko: '결제할 수 없는 주문입니다. 청구된 금액은 취소되었습니다.' },
  REFUND_REJECTED: {
    en: 'The payment company refused the refund. Your order and tickets stay as they were.',
    ko: 'PG사가 환불을 거절했습니다. 주문과 티켓은 그대로입니다.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    en: 'This order was already placed for other seats. Start again.',
    ko: '다른 좌석으로 이미 접수된 주문입니다. 다시 시작해 주세요.',
  },
  REQUEST_IN_PROGRESS: { en: 'Still working on your previous request…', ko: '이전 요청을 처리하는 중입니다…' },
  HAS_SALES: { en: 'Seats have been sold, so this cannot be deleted.', ko: '판매된 좌석이 있어 삭제할 수 없습니다.' },
  PERIOD_OVERLAPS: { en: 'That period overlaps a settled one.', ko: '이미 정산된 기간과 겹칩니다.' },
};

export interface ProblemText {
  message: string;
  /** Field-level reasons (VALIDATION_FAILED), as `field: reason`. */
  details: string[];
  requestId?: string;
}

export function describeProblem(err: unknown, lang: Lang): ProblemText {
  const problem: Problem = err instanceof ApiError ? err.problem : { title: String(err), status: 0, code: 'NETWORK' };
  const known = messages[problem.code];
  const message = known ? known[lang] : (problem.detail ?? problem.title);
  const details = (problem.errors ?? []).map((e) => `${e.path.split('/').filter(Boolean).slice(1).join('.') || e.path}: ${e.message}`);
  // Sentences the server adds beyond the code's own (e.g. how many seats a buyer may hold).
  if (known && problem.code === 'HOLD_LIMIT_EXCEEDED' && typeof problem.maxSeatsPerBuyer === 'number') {
    details.push(lang === 'ko' ? `1인당 최대 ${problem.maxSeatsPerBuyer}석` : `At most ${problem.maxSeatsPerBuyer} seats per buyer`);
  }
  if (known && problem.code === 'PAYMENT_REJECTED' && typeof problem.pgCode === 'string') details.push(`PG: ${problem.pgCode}`);
  return { message, details, ...(problem.requestId ? { requestId: problem.requestId } : {}) };
}
