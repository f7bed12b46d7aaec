import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger, loggerOptions } from './logger.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';
const EMAIL = 'ann@example.com';

/** What pg (and PGlite) throw: the row and the bad parameter are quoted in detail and where. */
function databaseError(): Error {
  return Object.assign(new Error('new row for relation "users" violates check constraint "t_no_boom"'), {
    severity: 'ERROR',
    code: '23514',
    constraint: 't_no_boom',
    detail: `Failing row contains (0190, ${EMAIL}, boom, BUYER, ${HASH}).`,
    where: `unnamed portal parameter $2 = '${EMAIL}'`,
  });
}

const failedInsert = () => new DrizzleQueryError('insert into "users" ("email", "password_hash") values ($1, $2)', [EMAIL, HASH], databaseError());

function logged(entry: (log: pino.Logger) => void, level = 'info'): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  entry(pino(loggerOptions(level), sink));
  return out;
}

describe('error logs carry no query parameter values', () => {
  it.each([
    ['a failed query', () => failedInsert()],
    ['a failed query as the cause of another error', () => new Error('signup failed', { cause: failedInsert() })],
    ['a failed query among aggregated errors', () => new AggregateError([new Error('first'), failedInsert()], 'both failed')],
    ['a database error logged bare', () => databaseError()],
  ])('%s', (_label, make) => {
    const line = logged((log) => log.error({ err: make() }, 'unhandled error'));
    expect(line).not.toContain(HASH);
    expect(line).not.toContain(EMAIL);
    // What the failure is debugged from stays.
    expect(line).toMatch(/t_no_boom/);
  });

  it('keeps the statement and the database reason of a failed query', () => {
    const entry = JSON.parse(logged((log) => log.error({ err: failedInsert() }, 'unhandled error'))) as { err: Record<string, unknown> };
    expect(entry.err).toMatchObject({
      type: 'DrizzleQueryError',
      query: 'insert into "users" ("email", "password_hash") values ($1, $2)',
      params: '[redacted]',
    });
    expect(entry.err.message).toContain('params: [redacted]: new row for relation "users" violates check constraint "t_no_boom"');
  });

  it('also when the error is the first argument', () => {
    expect(logged((log) => log.error(failedInsert()))).not.toContain(HASH);
  });
});

describe('a request logger made lazily', () => {
  const lines = (out: string) =>
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('makes no child while nothing is logged at an enabled level, and then writes what a child would', () => {
    let children = 0;
    const out = logged((log) => {
      const parent = Object.assign(Object.create(log) as pino.Logger, {
        child: (...args: Parameters<pino.Logger['child']>) => {
          children++;
          return log.child(...args);
        },
      });
      const request = lazyRequestLogger(parent, { requestId: 'r-1' }, {});
      request.info({ x: 1 }, 'not written at warn');
      request.debug('nor this');
      request.setBindings({ userId: 'u-1' });
      expect(children).toBe(0);
      expect(request.isLevelEnabled('info')).toBe(false);
      expect(request.bindings()).toMatchObject({ requestId: 'r-1', userId: 'u-1' });
      request.warn({ reason: 'slow' }, 'dependency unavailable');
      request.setBindings({ orderId: 'o-1' });
      request.error({ body: { accessToken: 'secret' } }, 'after');
      expect(children).toBe(1);
    }, 'warn');
    const [first, second, ...rest] = lines(out);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ level: 'warn', requestId: 'r-1', userId: 'u-1', reason: 'slow', msg: 'dependency unavailable' });
    expect(second).toMatchObject({ level: 'error', requestId: 'r-1', userId: 'u-1', orderId: 'o-1', body: { accessToken: '[redacted]' }, msg: 'after' });
  });

  it("takes a route's own level over the process's", () => {
    const out = logged((log) => {
      const quiet = lazyRequestLogger(log, { requestId: 'r-2' }, { level: 'warn' });
      quiet.info('not written: the route logs at warn');
      quiet.warn('written');
      const loud = lazyRequestLogger(log, { requestId: 'r-3' }, { level: 'debug' });
      loud.debug('written too');
    }, 'info');
    expect(lines(out).map((l) => [l.requestId, l.msg])).toEqual([
      ['r-2', 'written'],
      ['r-3', 'written too'],
    ]);
  });
});
