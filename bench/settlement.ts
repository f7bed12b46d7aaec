/**
 * The `settlement` scenario, in production mode (PostgreSQL + Redis; the throwaway database and
 * URLs of bench/production.ts):
 *
 *   a. 1,000,000 ledger entries for 1,000 sellers in one day (900,000 sales and 100,000 refunds
 *      of some of them; each seller 900 orders), bulk-inserted with generate_series — setup, not
 *      measured — then the day settled by the service as `POST /v1/admin/settlements/run` runs
 *      it: one set-based statement (target: under 30 s);
 *   b. the next day: 1,000,000 sales of one seller, settled (timed too) into a 1,000,000-line
 *      settlement, whose CSV is then streamed over real HTTP (`GET /v1/seller/settlements/:id/csv`)
 *      and read to the end by curl (another process, to /dev/null): this process's RSS — the
 *      server's — is sampled every 20 ms, before and during; with NODE_OPTIONS=--expose-gc also the
 *      heap left after a full collection every 250 ms (what the stream keeps alive), to show it
 *      stays flat: V8 otherwise lets the pages' garbage pile up before collecting it.
 */
import { spawn } from 'node:child_process';
import { performance as perf } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import type { AppContext } from '../src/context.js';
import { queryRows } from '../src/platform/db/client.js';
import { fmtInt, printTable, round } from './lib.js';
import { printTargets, target, tokenSettings, withProduction, type BenchTarget } from './production.js';

const ENTRIES = 1_000_000;
const SELLERS = 1_000;
const REFUNDS = 100_000;
const CSV_LINES = 1_000_000;
const TARGET_SECONDS = 30;
const MB = 1024 * 1024;

export interface SettlementResult {
  database: string;
  postgres: string;
  redis: string;
  insertSeconds: number;
  settle: { seconds: number; settlements: number; lines: number };
  big: { insertSeconds: number; settleSeconds: number; lines: number };
  csv: { seconds: number; bytes: number; records: number; rssBeforeMb: number; rssPeakMb: number; heapPeakMb: number; liveHeapPeakMb: number | null };
  targets: BenchTarget[];
}

/** A day in Korean time, as the daily job would settle it. */
const DAY1 = { start: new Date('2026-01-01T00:00:00+09:00'), end: new Date('2026-01-02T00:00:00+09:00') };
const DAY2 = { start: new Date('2026-01-02T00:00:00+09:00'), end: new Date('2026-01-03T00:00:00+09:00') };

/**
 * Entries `from..to` of the ledger and their pending rows, in one statement: ids are md5 uuids of
 * a tag and the number, so each run of the bench makes the same data. `seller(g)` and `order(g)`
 * are SQL of `g`.
 */
async function bulkInsert(ctx: AppContext, o: { tag: string; count: number; start: Date; seller: string; order: string; refundFrom?: number }) {
  const kind = o.refundFrom ? `case when g > ${o.refundFrom} then 'REFUND' else 'SALE' end` : `'SALE'`;
  await ctx.database.db.execute(
    sql.raw(`
    with e as (
      insert into settlement_ledger (id, event_id, kind, seller_id, performance_id, performance_title, schedule_id, order_id, occurred_at, seats,
                                     list_total, seller_discount, platform_discount, charged, platform_fee, pg_fee, platform_fee_ppm, pg_fee_ppm, recorded_at)
      select md5('${o.tag}e' || g)::uuid, md5('${o.tag}v' || g)::uuid, ${kind}, md5('${o.tag}s' || ${o.seller})::uuid, md5('${o.tag}p' || ${o.seller})::uuid,
             '벤치 공연, "정산" ' || ${o.seller}, md5('${o.tag}c' || ${o.seller})::uuid, md5('${o.tag}o' || ${o.order})::uuid,
             '${o.start.toISOString()}'::timestamptz + (g % 86400) * interval '1 second', 2, 100000, 2000, 1000, 97000, 9800,
             case when ${kind} = 'SALE' then 2910 else 0 end, 100000, 30000, now()
      from generate_series(1, ${o.count}) as g
      returning id, occurred_at)
    insert into settlement_pending (entry_id, occurred_at) select id, occurred_at from e`),
  );
}

async function sellerToken(ctx: AppContext, sellerId: string): Promise<string> {
  const { secret, issuer, audience } = tokenSettings(ctx);
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'SELLER' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sellerId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(secret));
}

export async function benchSettlement(): Promise<SettlementResult> {
  return withProduction({}, async (p) => {
    const { ctx } = p;
    console.log('');
    console.log(`settlement: inserting ${fmtInt(ENTRIES)} ledger entries for ${fmtInt(SELLERS)} sellers (generate_series)…`);
    let t0 = perf.now();
    // Order o of seller o % 1000; entries above 900,000 refund orders 1..100,000.
    await bulkInsert(ctx, {
      tag: 'a',
      count: ENTRIES,
      start: DAY1.start,
      seller: `(case when g > ${ENTRIES - REFUNDS} then g - ${ENTRIES - REFUNDS} else g end) % ${SELLERS}`,
      order: `(case when g > ${ENTRIES - REFUNDS} then g - ${ENTRIES - REFUNDS} else g end)`,
      refundFrom: ENTRIES - REFUNDS,
    });
    await ctx.database.db.execute(sql`analyze settlement_ledger`);
    await ctx.database.db.execute(sql`analyze settlement_pending`);
    const insertSeconds = (perf.now() - t0) / 1000;

    console.log('settlement: settling the day…');
    t0 = perf.now();
    const day1 = await ctx.settlement.service.run(DAY1.start, DAY1.end);
    const settleSeconds = (perf.now() - t0) / 1000;
    const lines = day1.settlements.reduce((n, s) => n + s.lineCount, 0);

    console.log(`settlement: inserting ${fmtInt(CSV_LINES)} sales of one seller and settling the next day…`);
    t0 = perf.now();
    await bulkInsert(ctx, { tag: 'b', count: CSV_LINES, start: DAY2.start, seller: '0', order: 'g' });
    await ctx.database.db.execute(sql`analyze settlement_pending`);
    const bigInsertSeconds = (perf.now() - t0) / 1000;
    t0 = perf.now();
    const day2 = await ctx.settlement.service.run(DAY2.start, DAY2.end);
    const bigSettleSeconds = (perf.now() - t0) / 1000;
    const big = day2.settlements[0]!;

    console.log(`settlement: streaming the CSV of the ${fmtInt(big.lineCount)}-line settlement…`);
    const token = await sellerToken(ctx, big.sellerId);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let heapPeak = process.memoryUsage().heapUsed;
    // With --expose-gc (NODE_OPTIONS), a full collection every 250 ms: the heap then sampled is
    // what the stream keeps alive, not the garbage V8 has not collected yet.
    let liveHeapPeak = 0;
    let ticks = 0;
    const sampler = setInterval(() => {
      if (global.gc && ++ticks % 12 === 0) {
        global.gc();
        liveHeapPeak = Math.max(liveHeapPeak, process.memoryUsage().heapUsed);
      }
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed);
    }, 20);
    t0 = perf.now();
    // The client is another process (curl, writing to /dev/null): the RSS sampled is the server's alone.
    const { bytes, records } = await new Promise<{ bytes: number; records: number }>((resolve, reject) => {
      const curl = spawn('curl', [
        '-sS',
        '-f',
        '-o',
        '/dev/null',
        '-w',
        '%{size_download} %{http_code}',
        '-H',
        `authorization: Bearer ${token}`,
        `${p.base}/v1/seller/settlements/${big.id}/csv`,
      ]);
      let out = '';
      curl.stdout.on('data', (c: Buffer) => (out += c.toString()));
      curl.stderr.on('data', (c: Buffer) => (out += c.toString()));
      curl.on('error', reject);
      curl.on('close', (code) => {
        const [size, status] = out.trim().split(' ');
        if (code !== 0 || status !== '200') reject(new Error(`curl of the CSV: exit ${code}, ${out}`));
        else resolve({ bytes: Number(size), records: big.lineCount + 1 });
      });
    }).finally(() => clearInterval(sampler));
    const csvSeconds = (perf.now() - t0) / 1000;
    const [check] = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from settlement_lines where settlement_id = ${big.id}::uuid`);

    return {
      database: p.database,
      postgres: p.postgres,
      redis: p.redis,
      insertSeconds,
      settle: { seconds: settleSeconds, settlements: day1.settlements.length, lines },
      big: { insertSeconds: bigInsertSeconds, settleSeconds: bigSettleSeconds, lines: check?.n ?? 0 },
      csv: {
        seconds: csvSeconds,
        bytes,
        records,
        rssBeforeMb: rssBefore / MB,
        rssPeakMb: rssPeak / MB,
        heapPeakMb: heapPeak / MB,
        liveHeapPeakMb: global.gc ? liveHeapPeak / MB : null,
      },
      targets: [
        {
          ...target(`settle ${fmtInt(ENTRIES)} entries, ${fmtInt(SELLERS)} sellers`, settleSeconds, 's', TARGET_SECONDS, false),
          limitText: `< ${TARGET_SECONDS} s`,
          valueText: `${settleSeconds.toFixed(1)} s`,
        },
      ],
    };
  });
}

export function printSettlement(r: SettlementResult): void {
  console.log('');
  console.log(`Settlement — production mode: PostgreSQL ${r.postgres} (database ${r.database}), Redis ${r.redis}`);
  printTable([
    ['step', 'rows', 'seconds', 'notes'],
    ['bulk insert (setup)', fmtInt(1_000_000), r.insertSeconds.toFixed(1), 'generate_series: ledger + pending'],
    ['settle one day', fmtInt(r.settle.lines), r.settle.seconds.toFixed(1), `${fmtInt(r.settle.settlements)} settlements, one set-based statement`],
    ['bulk insert, one seller (setup)', fmtInt(CSV_LINES), r.big.insertSeconds.toFixed(1), ''],
    ['settle into one settlement', fmtInt(r.big.lines), r.big.settleSeconds.toFixed(1), ''],
    [
      'stream its CSV over HTTP',
      fmtInt(r.csv.records - 1),
      r.csv.seconds.toFixed(1),
      `${(r.csv.bytes / MB).toFixed(0)} MB; RSS ${r.csv.rssBeforeMb.toFixed(0)} MB before, peak ${r.csv.rssPeakMb.toFixed(0)} MB (+${(r.csv.rssPeakMb - r.csv.rssBeforeMb).toFixed(0)} MB); heap peak ${r.csv.heapPeakMb.toFixed(0)} MB, ${r.csv.liveHeapPeakMb === null ? 'live heap not measured (NODE_OPTIONS=--expose-gc)' : `live heap peak after GC ${r.csv.liveHeapPeakMb.toFixed(0)} MB`}`,
    ],
  ]);
  printTargets(r.targets);
}

export function settlementJson(r: SettlementResult) {
  return {
    database: r.database,
    insertSeconds: round(r.insertSeconds, 1),
    settle: { ...r.settle, seconds: round(r.settle.seconds, 2) },
    big: { ...r.big, insertSeconds: round(r.big.insertSeconds, 1), settleSeconds: round(r.big.settleSeconds, 2) },
    csv: {
      seconds: round(r.csv.seconds, 2),
      bytes: r.csv.bytes,
      records: r.csv.records,
      rssBeforeMb: round(r.csv.rssBeforeMb, 0),
      rssPeakMb: round(r.csv.rssPeakMb, 0),
      heapPeakMb: round(r.csv.heapPeakMb, 0),
      liveHeapPeakMb: r.csv.liveHeapPeakMb === null ? null : round(r.csv.liveHeapPeakMb, 0),
    },
    targets: r.targets.map((t) => ({ name: t.name, value: round(t.value, 2), limit: t.limit, met: t.met })),
  };
}
