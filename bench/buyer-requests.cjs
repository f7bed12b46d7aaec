'use strict';
/**
 * autocannon `setupRequest` of the waiting-room, booking, coupons and payments scenarios: it gives
 * every request a buyer of its own (an access token signed with the bench's JWT_SECRET, as
 * `mintBuyer` in test/support/builders.ts does) and, for holds, orders and confirms, the body and
 * Idempotency-Key. `pg-confirm` is the odd one out: the sandbox PG's own confirm, as MOS's Toss
 * client sends it (Basic auth, no buyer), to measure what the sandbox costs by itself.
 *
 * Plain CommonJS on purpose: with BENCH_WORKERS > 0, autocannon runs the load in worker threads
 * and `require`s this file there by absolute path (functions cannot be sent to a worker), and a
 * worker has no tsx loader. bench/buyers.ts is its typed front: it describes the plan and loads
 * this same file in the main thread when the load runs there (BENCH_WORKERS=0).
 *
 * The plan reaches a worker as the extra autocannon option `mosBuyerPlan`, which autocannon
 * structured-clones into `workerData` once per worker; it never copies it per connection. Its
 * `counter` lives in a SharedArrayBuffer, so every thread takes buyer numbers from one sequence
 * and no two requests of a "distinct buyers" run ever carry the same buyer.
 */
const { createHmac } = require('node:crypto');
const { isMainThread, workerData } = require('node:worker_threads');

/** @type {any} */
let plan = isMainThread ? undefined : workerData?.opts?.mosBuyerPlan;

/** Main thread only: the plan of the next run. */
function configure(next) {
  plan = next;
}

/**
 * Buyer `i` of run `runId` (12 hex digits): a UUID (version nibble 4, variant 8) computed, not
 * stored, so the bench's main thread and the load threads agree on it without sharing a list of
 * 100,000 ids — the main thread needs it to give prepared buyers their holds.
 */
function buyerId(runId, i) {
  const n = i.toString(16).padStart(18, '0');
  return `${runId.slice(0, 8)}-${runId.slice(8, 12)}-4${n.slice(0, 3)}-8${n.slice(3, 6)}-${n.slice(6, 18)}`;
}

const b64 = (s) => Buffer.from(s).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/**
 * An HS256 access token for buyer `i`, built with node:crypto rather than jose: a few µs instead
 * of tens, so minting per request costs the load generator next to nothing. The server verifies
 * it with jose like any token it issued itself (same claims as AccessTokens#issue).
 */
function buyerToken(p, i) {
  const iat = Math.floor(Date.now() / 1000);
  const payload = b64(JSON.stringify({ role: 'BUYER', sub: buyerId(p.runId, i), iss: p.issuer, aud: p.audience, iat, exp: iat + 3600 }));
  const signature = createHmac('sha256', p.secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

/** The next unused buyer number, shared by every load thread. */
const nextBuyer = (p) => Atomics.add(p.counter, 0, 1);

function setupRequest(req) {
  const p = plan;
  if (!p) throw new Error('buyer-requests: no plan (configure() in the main thread, mosBuyerPlan in a worker)');
  let i;
  switch (p.kind) {
    case 'queue-enter':
    case 'coupon-claim': // POST /v1/coupons/:id/claims: no body, the campaign is in the URL
      i = nextBuyer(p);
      break;
    case 'queue-poll':
      // A random buyer among those who entered: polls hit every part of the sorted set.
      i = p.first + Math.floor(Math.random() * p.pool);
      break;
    case 'hold': {
      i = nextBuyer(p);
      const n = p.seatIds.length;
      const a = Math.floor(Math.random() * n);
      let b = Math.floor(Math.random() * (n - 1));
      if (b >= a) b += 1; // two distinct seats
      req.body = JSON.stringify({ seatIds: [p.seatIds[a], p.seatIds[b]] });
      break;
    }
    case 'hold-pair':
      i = nextBuyer(p);
      // Seats 2i and 2i+1: no two buyers ask for the same seat, so every hold is a real one (a
      // run that must compare holds made, not refusals once the showtime has filled).
      req.body = JSON.stringify({ seatIds: [p.seatIds[2 * i], p.seatIds[2 * i + 1]] });
      break;
    case 'order':
      i = nextBuyer(p);
      // Buyer i was given seats 2i and 2i+1 by the bench before the run (bench/booking.ts).
      req.body = JSON.stringify({ scheduleId: p.scheduleId, seatIds: [p.seatIds[2 * i], p.seatIds[2 * i + 1]] });
      req.headers['idempotency-key'] = `bench-${p.runId}-${i}`;
      break;
    case 'confirm': {
      i = nextBuyer(p);
      // Buyer i placed order payments[i] and the bench checked it out at the sandbox (bench/payments.ts).
      const pay = p.payments[i];
      if (!pay) throw new Error(`buyer-requests: buyer ${i} has no prepared payment (the run outgrew its buyers)`);
      req.body = JSON.stringify(pay);
      req.headers['idempotency-key'] = `bench-pay-${p.runId}-${i}`;
      break;
    }
    case 'pg-confirm': {
      i = nextBuyer(p);
      const pay = p.payments[i];
      if (!pay) throw new Error(`buyer-requests: checkout ${i} was not prepared (the run outgrew its checkouts)`);
      req.body = JSON.stringify(pay);
      req.headers['idempotency-key'] = `bench-pg-${p.runId}-${i}`;
      req.headers.authorization = p.basicAuth;
      return req;
    }
    default:
      throw new Error(`buyer-requests: unknown kind ${p.kind}`);
  }
  // `req.headers` is a fresh object for every request (autocannon's request builder copies it).
  req.headers.authorization = `Bearer ${buyerToken(p, i)}`;
  return req;
}

module.exports = setupRequest;
module.exports.configure = configure;
module.exports.buyerId = buyerId;
module.exports.buyerToken = buyerToken;
