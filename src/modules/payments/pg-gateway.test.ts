import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { problemPlugin } from '../../platform/http/problem.js';
import { loggerOptions } from '../../platform/observability/logger.js';
import { PgMisconfiguredError, pgIdempotencyKeys } from './pg-gateway.js';

describe('the PG gateway port', () => {
  it('derives idempotency keys from the order, so a retry after a crash finds the same one', () => {
    expect(pgIdempotencyKeys.confirm('ord_1')).toBe('confirm:ord_1');
    expect(pgIdempotencyKeys.confirm('ord_1', 2)).toBe('confirm:ord_1:2');
    expect(pgIdempotencyKeys.cancel('ord_1', 1)).toBe('cancel:ord_1:1');
    // orderId is at most 64 characters (docs/toss.md B3): every key stays within Toss's 300.
    expect(pgIdempotencyKeys.cancel('o'.repeat(64), 999).length).toBeLessThanOrEqual(300);
  });

  it('answers a misconfigured PG as a plain 503 and logs it at error level with its cause', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = Fastify({ loggerInstance: pino(loggerOptions('info'), sink) });
    await app.register(problemPlugin);
    app.get('/pay', async () => {
      throw new PgMisconfiguredError('UNAUTHORIZED_KEY', 401, '인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.');
    });

    const res = await app.inject({ method: 'GET', url: '/pay' });
    await app.close();

    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(res.body).not.toContain('UNAUTHORIZED_KEY');
    const logged = lines.find((l) => l.level === 'error');
    expect(logged).toBeDefined();
    expect(logged!.err).toMatchObject({ type: 'PgMisconfiguredError', pgCode: 'UNAUTHORIZED_KEY', pgStatus: 401 });
  });
});
