/**
 * The sandbox PG over HTTP, Toss's way (Toss Payments' documented authorization, idempotency and test-code rules; docs/api.md, "The sandbox PG"): Basic auth with the
 * secret key, `{code, message}` errors with Toss's statuses, Idempotency-Key on POSTs and the
 * TossPayments-Test-Code header — plus the sandbox's own checkout, ledger and fault script.
 * Every route is hidden from MOS's OpenAPI document: this is Toss's contract, not MOS's.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxService } from './sandbox.service.js';
import { CheckoutBody, CheckoutResponse, FaultsBody, FaultsResponse, LedgerQuery, LedgerResponse, WebhooksResponse } from './sandbox.schemas.js';
import type { SandboxIdempotency, StoredResponse } from './sandbox.store.js';
import { kstLocal, type SandboxWebhooks } from './sandbox.webhooks.js';
import { DELIVERY_FAULTS, type DeliveryFault, type SandboxFaults, type TossOperation } from './sandbox.faults.js';
import { isTossErrorCode, TossError } from './toss.errors.js';
import { TossCancelBody, TossConfirmBody, TossErrorBody, TossPayment } from './toss.wire.js';

/** What the routes need; `createSandbox` (index.ts) makes it. */
export interface SandboxParts {
  readonly secretKey: string;
  readonly service: SandboxService;
  readonly faults: SandboxFaults;
  readonly idempotency: SandboxIdempotency;
  /** PAYMENT_STATUS_CHANGED deliveries; its timer runs while the server that mounts the sandbox is up. */
  readonly webhooks: SandboxWebhooks;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long a `timeout` fault holds the caller's connection before closing it. */
  readonly timeoutHoldMs: number;
}

const MAX_IDEMPOTENCY_KEY = 300;
const LATENCY_HEADER = 'x-sandbox-latency-ms';
const FAULT_HEADER = 'x-sandbox-fault';
const TEST_CODE_HEADER = 'tosspayments-test-code';

const tossErrors = { '4xx': TossErrorBody, '5xx': TossErrorBody };
// Hidden from MOS's OpenAPI; and MOS's rate limit is for MOS's clients, not for a test PG.
const common = { hide: true } as const;
const routeConfig = { rateLimit: false } as const;

export function sandboxPlugin(sandbox: SandboxParts): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    // The same validation wherever the sandbox is mounted (MOS's app or its own process): strict
    // JSON, no coercion, nothing added or removed. Its failures answer Toss's INVALID_REQUEST.
    const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
    app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
    app.setErrorHandler((err: FastifyError, request, reply) => {
      if (err instanceof TossError) return sendToss(reply, err.status, err.body);
      if (err.validation) {
        const first = err.validation[0];
        const where = `${err.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
        return sendToss(reply, 400, new TossError('INVALID_REQUEST', `잘못된 요청입니다. (${where}: ${first?.message ?? 'invalid'})`).body);
      }
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return sendToss(reply, 400, new TossError('INVALID_REQUEST').body);
      request.log.error({ err }, 'sandbox PG error');
      return sendToss(reply, 500, new TossError('FAILED_INTERNAL_SYSTEM_PROCESSING').body);
    });
    app.setNotFoundHandler((_request, reply) => sendToss(reply, 404, new TossError('NOT_FOUND').body));

    // Before the body is read: an unauthenticated caller learns nothing and costs no parsing.
    app.addHook('onRequest', async (request) => {
      authenticate(request.headers.authorization, sandbox.secretKey);
    });

    // Wherever the sandbox is mounted, its webhook timer runs while that server is up.
    app.addHook('onReady', async () => sandbox.webhooks.start());
    app.addHook('onClose', async () => sandbox.webhooks.stop());

    // Connections a `timeout` fault holds: closed when the app closes, so a stop is never stuck on them.
    const held = new Set<Socket>();
    app.addHook('preClose', async () => {
      for (const socket of held) socket.destroy();
    });

    const tossCall = async (operation: TossOperation, request: FastifyRequest, reply: FastifyReply, work: () => unknown) => {
      const requested = faultHeaders(request);
      const testCode = headerOf(request, TEST_CODE_HEADER);
      // The header is ignored on GET (B7): reads are idempotent by nature.
      const key = request.method === 'POST' ? headerOf(request, 'idempotency-key') : undefined;
      if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) throw new TossError('INVALID_IDEMPOTENCY_KEY');
      const decision = sandbox.faults.decide(operation, requested);

      // Scope (B7): key, API key, URL and method — never the body.
      const scope = key === undefined ? undefined : [key, sandbox.secretKey, request.method, request.url.split('?')[0]].join('\n');
      if (scope !== undefined) {
        const begun = sandbox.idempotency.begin(scope);
        if (begun.kind === 'in-flight') throw new TossError('IDEMPOTENT_REQUEST_PROCESSING');
        if (begun.kind === 'done') {
          if (decision.latencyMs > 0) await sandbox.sleep(decision.latencyMs);
          return deliver(request, reply, begun.response, decision.delivery);
        }
      }
      let response: StoredResponse;
      try {
        if (decision.latencyMs > 0) await sandbox.sleep(decision.latencyMs);
        response = answer(() => {
          if (decision.code) throw new TossError(decision.code);
          // Only test keys honour it (B10); the sandbox runs on nothing else, but says so.
          if (testCode !== undefined && sandbox.secretKey.startsWith('test_')) {
            throw isTossErrorCode(testCode) ? new TossError(testCode) : new TossError('INVALID_REQUEST', `알 수 없는 테스트 코드입니다: ${testCode}`);
          }
          return work();
        });
      } catch (err) {
        if (scope !== undefined) sandbox.idempotency.abandon(scope);
        throw err;
      }
      // The first response is what every repeat of the key gets, whatever it was (B7).
      if (scope !== undefined) sandbox.idempotency.complete(scope, response);
      return deliver(request, reply, response, decision.delivery);
    };

    const deliver = (request: FastifyRequest, reply: FastifyReply, response: StoredResponse, fault: DeliveryFault | null) => {
      if (fault === null) return sendToss(reply, response.status, response.body);
      if (fault === '5xx') return sendToss(reply, 500, new TossError('FAILED_INTERNAL_SYSTEM_PROCESSING').body);
      // The work is done and recorded; the caller never hears of it.
      reply.hijack();
      const socket = request.raw.socket;
      if (fault === 'drop') {
        socket.destroy();
      } else {
        held.add(socket);
        const timer = setTimeout(() => socket.destroy(), sandbox.timeoutHoldMs);
        timer.unref();
        socket.once('close', () => {
          clearTimeout(timer);
          held.delete(socket);
        });
      }
      return reply;
    };

    app.post<{ Body: CheckoutBody }>(
      '/checkout',
      { schema: { ...common, body: CheckoutBody, response: { 200: CheckoutResponse, ...tossErrors } }, config: routeConfig },
      async (request) => {
        const { testCode, ...rest } = request.body;
        if (testCode !== undefined && !isTossErrorCode(testCode)) throw new TossError('INVALID_REQUEST', `알 수 없는 테스트 코드입니다: ${testCode}`);
        const { paymentKey } = sandbox.service.checkout({ ...rest, testCode });
        return { paymentKey, orderId: rest.orderId, amount: rest.amount };
      },
    );

    app.post<{ Body: TossConfirmBody }>(
      '/v1/payments/confirm',
      { schema: { ...common, body: TossConfirmBody, response: { 200: TossPayment, ...tossErrors } }, config: routeConfig },
      (request, reply) => tossCall('confirm', request, reply, () => sandbox.service.confirm(request.body)),
    );

    app.get<{ Params: { orderId: string } }>(
      '/v1/payments/orders/:orderId',
      { schema: { ...common, response: { 200: TossPayment, ...tossErrors } }, config: routeConfig },
      (request, reply) => tossCall('lookup', request, reply, () => sandbox.service.getByOrder(request.params.orderId)),
    );

    app.get<{ Params: { paymentKey: string } }>(
      '/v1/payments/:paymentKey',
      { schema: { ...common, response: { 200: TossPayment, ...tossErrors } }, config: routeConfig },
      (request, reply) => tossCall('lookup', request, reply, () => sandbox.service.get(request.params.paymentKey)),
    );

    app.post<{ Params: { paymentKey: string }; Body: TossCancelBody }>(
      '/v1/payments/:paymentKey/cancel',
      { schema: { ...common, body: TossCancelBody, response: { 200: TossPayment, ...tossErrors } }, config: routeConfig },
      (request, reply) => tossCall('cancel', request, reply, () => sandbox.service.cancel(request.params.paymentKey, request.body)),
    );

    app.get<{ Querystring: { orderId?: string } }>(
      '/ledger',
      { schema: { ...common, querystring: LedgerQuery, response: { 200: LedgerResponse, ...tossErrors } }, config: routeConfig },
      async (request) => sandbox.service.ledgerView(request.query.orderId),
    );

    app.get<{ Querystring: { orderId?: string } }>(
      '/webhooks',
      { schema: { ...common, querystring: LedgerQuery, response: { 200: WebhooksResponse, ...tossErrors } }, config: routeConfig },
      async (request) => ({
        deliveries: sandbox.service.webhookDeliveries(request.query.orderId).map((d) => ({
          id: d.id,
          url: d.url,
          paymentKey: d.paymentKey,
          orderId: d.orderId,
          status: d.status,
          state: d.state,
          createdAt: d.body.createdAt,
          nextAttemptAt: d.state === 'pending' ? kstLocal(d.nextAttemptAt) : null,
          attempts: d.attempts.map((a) => ({ at: kstLocal(a.at), retriedCount: a.retriedCount, httpStatus: a.httpStatus, error: a.error })),
        })),
      }),
    );

    app.post<{ Body: FaultsBody }>(
      '/faults',
      { schema: { ...common, body: FaultsBody, response: { 200: FaultsResponse, ...tossErrors } }, config: routeConfig },
      async (request) => {
        const unknown = request.body.next.find((s) => s.code !== undefined && !isTossErrorCode(s.code));
        if (unknown) throw new TossError('INVALID_REQUEST', `알 수 없는 에러 코드입니다: ${unknown.code}`);
        return { pending: sandbox.faults.enqueue(request.body.next.map((s) => ({ ...s, code: s.code as never }))) };
      },
    );

    app.delete('/faults', { schema: { ...common, response: { 200: FaultsResponse, ...tossErrors } }, config: routeConfig }, async () => {
      sandbox.faults.clear();
      return { pending: 0 };
    });
  };
}

/**
 * `Authorization: Basic base64(secretKey + ':')` (B2): no colon in the decoded value is a
 * format error (403); anything else that is not the key — no header, another key, a password,
 * a UTF-8 BOM before the key — is an unknown key (401).
 */
function authenticate(header: string | undefined, secretKey: string): void {
  const match = header === undefined ? null : /^Basic ([A-Za-z0-9+/=]*)$/.exec(header.trim());
  if (!match) throw new TossError('UNAUTHORIZED_KEY');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new TossError('INCORRECT_BASIC_AUTH_FORMAT');
  if (decoded.length !== colon + 1 || !sameSecret(decoded.slice(0, colon), secretKey)) throw new TossError('UNAUTHORIZED_KEY');
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function answer(work: () => unknown): StoredResponse {
  try {
    return { status: 200, body: work() };
  } catch (err) {
    if (err instanceof TossError) return { status: err.status, body: err.body };
    throw err;
  }
}

function sendToss(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).send(body);
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function faultHeaders(request: FastifyRequest): { latencyMs?: number; fault?: DeliveryFault } {
  const out: { latencyMs?: number; fault?: DeliveryFault } = {};
  const latency = headerOf(request, LATENCY_HEADER);
  if (latency !== undefined) {
    if (!/^\d{1,6}$/.test(latency) || Number(latency) > 600_000) throw new TossError('INVALID_REQUEST', `${LATENCY_HEADER}: 0–600000 ms`);
    out.latencyMs = Number(latency);
  }
  const fault = headerOf(request, FAULT_HEADER);
  if (fault !== undefined) {
    if (!(DELIVERY_FAULTS as readonly string[]).includes(fault))
      throw new TossError('INVALID_REQUEST', `${FAULT_HEADER}: one of ${DELIVERY_FAULTS.join(', ')}`);
    out.fault = fault as DeliveryFault;
  }
  return out;
}
