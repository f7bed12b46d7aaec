import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from './logger.js';

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

function logged(entry: (log: pino.Logger) => void): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  entry(pino(loggerOptions('info'), sink));
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
