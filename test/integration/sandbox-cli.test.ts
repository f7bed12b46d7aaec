import { describe, expect, it } from 'vitest';
import { exited, freePort, runMos, startMos } from '../support/processes.js';

const KEY = 'test_sk_cli_sandbox';
const auth = { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`, 'content-type': 'application/json' };

describe('mos sandbox', () => {
  it('runs the sandbox PG as its own process on SANDBOX_PORT, and stops on SIGTERM', async () => {
    const port = await freePort();
    const proc = startMos(['sandbox'], { SANDBOX_PORT: String(port), TOSS_SECRET_KEY: KEY, LOG_LEVEL: 'info' });
    try {
      await expect.poll(() => proc.output(), { timeout: 30_000, interval: 100 }).toContain('sandbox PG listening');
      const base = `http://127.0.0.1:${port}/sandbox/toss`;
      const checkout = await fetch(`${base}/checkout`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ orderId: 'cli-order-1', amount: 9900, orderName: 'S석' }),
      });
      expect(checkout.status).toBe(200);
      const { paymentKey } = (await checkout.json()) as { paymentKey: string };
      const confirm = await fetch(`${base}/v1/payments/confirm`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ paymentKey, orderId: 'cli-order-1', amount: 9900 }),
      });
      expect(confirm.status).toBe(200);
      expect(await confirm.json()).toMatchObject({ status: 'DONE', totalAmount: 9900 });
      const wrongKey = await fetch(`${base}/v1/payments/${paymentKey}`, {
        headers: { authorization: `Basic ${Buffer.from('test_sk_other:').toString('base64')}` },
      });
      expect(wrongKey.status).toBe(401);
      const ledger = (await (await fetch(`${base}/ledger`, { headers: auth })).json()) as { orders: unknown[] };
      expect(ledger.orders).toEqual([{ orderId: 'cli-order-1', charges: 1, chargedAmount: 9900, canceledAmount: 0, balanceAmount: 9900 }]);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await exited(proc.child)).toBe(0);
  }, 60_000);

  it('refuses to run on a live secret key', async () => {
    const { code, output } = await runMos(['sandbox'], { TOSS_SECRET_KEY: 'live_sk_real', TOSS_SANDBOX: 'false', LOG_LEVEL: 'warn' });
    expect(code).toBe(2);
    expect(output).toMatch(/TOSS_SECRET_KEY: the sandbox PG never runs on a live secret key/);
  });
});

describe('mos api with TOSS_SANDBOX', () => {
  it('refuses to start with a live secret key', async () => {
    const { code, output } = await runMos(['api'], {
      TOSS_SANDBOX: 'true',
      TOSS_SECRET_KEY: 'live_sk_real',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_SECRET: 'cli-test-secret-cli-test-secret-0123',
      LOG_LEVEL: 'warn',
    });
    expect(code).toBe(2);
    expect(output).toMatch(/TOSS_SANDBOX: the sandbox PG never runs beside a live secret key/);
  });
});
