import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenBuyer, givenOpenSchedule } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

/**
 * Item 9 of issue 10: slow clients on real sockets. The timeouts are set small; each client
 * would keep trickling ten times longer than the timeout it tests, so "closed while the
 * client was still sending" can only be the server's timeout at work.
 */
const HEADERS_MS = 300;
const REQUEST_MS = 600;
const KEEP_ALIVE_MS = 300;
const STEP_MS = 100;

interface Conversation {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}

function open(port: number): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (data += d.toString()));
    const done = new Promise<void>((r) =>
      socket.once('close', () => {
        closed = true;
        r();
      }),
    );
    socket.once('error', () => {}); // a reset by the server is one of the outcomes under test
    socket.once('connect', () => resolve({ socket, received: () => data, closed: done, isClosed: () => closed }));
    socket.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes the chunks one per step; reports whether the server closed before the last one. */
async function trickle(c: Conversation, chunks: string[]): Promise<{ cutOff: boolean }> {
  for (const chunk of chunks) {
    if (c.isClosed()) return { cutOff: true };
    c.socket.write(chunk);
    await sleep(STEP_MS);
  }
  return { cutOff: c.isClosed() };
}

describe('slow clients', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
        WAITING_ROOM_STREAM_INTERVAL_MS: '100',
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(() => t.cleanup());

  it('closes a connection whose headers trickle in, with 408', async () => {
    const c = await open(port);
    const steps = (10 * HEADERS_MS) / STEP_MS;
    const chunks = ['GET /health/live HTTP/1.1\r\nHost: mos\r\n', ...Array.from({ length: steps }, (_, i) => `X-Slow-${i}: y\r\n`), '\r\n'];
    const { cutOff } = await trickle(c, chunks);
    expect(cutOff).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose body trickles in, with 408', async () => {
    const c = await open(port);
    const steps = (10 * REQUEST_MS) / STEP_MS;
    const shape = (password: string) => JSON.stringify({ email: 'slow@test.mos', password });
    // One character per step, `steps` of them.
    const body = shape('x'.repeat(steps - shape('').length));
    const chunks = [
      `POST /v1/auth/login HTTP/1.1\r\nHost: mos\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      ...body,
    ];
    const { cutOff } = await trickle(c, chunks);
    expect(cutOff).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection', async () => {
    const c = await open(port);
    c.socket.write('GET /health/live HTTP/1.1\r\nHost: mos\r\nConnection: keep-alive\r\n\r\n');
    // Silent after its first request: ten keep-alive timeouts of waiting would end it.
    const outcome = await Promise.race([c.closed.then(() => 'closed'), sleep(10 * KEEP_ALIVE_MS).then(() => 'open')]);
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(outcome).toBe('closed');
    c.socket.destroy();
  });

  it('keeps a queue stream open past every timeout until the buyer is admitted', async () => {
    const { schedule } = await givenOpenSchedule(t.app, { seats: 10, schedule: { waitingRoom: { enabled: true, maxActive: 5, admitPerTick: 5 } } });
    const buyer = await givenBuyer(t.app);
    const entered = await t.app.inject({ method: 'POST', url: `/v1/schedules/${schedule.id}/queue`, headers: buyer.auth });
    expect(entered.json().status).toBe('WAITING');

    const c = await open(port);
    c.socket.write(`GET /v1/schedules/${schedule.id}/queue/stream HTTP/1.1\r\nHost: mos\r\nAuthorization: ${buyer.auth.authorization}\r\n\r\n`);
    await expect.poll(() => c.received(), { timeout: 5000 }).toContain('"status":"WAITING"');
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);

    // Longer than every timeout above, several times over, with nothing sent either way.
    await sleep(5 * Math.max(HEADERS_MS, REQUEST_MS, KEEP_ALIVE_MS));
    expect(c.isClosed()).toBe(false);

    await t.ctx.waitingRoom.service.tick(1);
    await expect.poll(() => c.received(), { timeout: 5000 }).toContain('"status":"ADMITTED"');
    c.socket.destroy();
  });
});
