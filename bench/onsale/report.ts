/**
 * What a run of the scene shows: sell-out time; per step (enter, admitted, hold, order, confirm)
 * the throughput and p50/p99; the queue and the sales over time; CPU µs per purchase by part and
 * the sell-out time it implies as the machine's ceiling; the checks; the targets as MET/MISSED.
 * Written as a table on the console, a JSON file and a PNG chart (vega-lite → SVG → resvg, no browser).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Figures } from '../lib.js';
import { fmtInt, printTable, round } from '../lib.js';
import { percentile } from './http.js';
import { outcomesOf } from './crowd.js';
import type { CpuParts, OnsaleRun } from './scene.js';

export interface StepFigures {
  step: string;
  /** Successful steps. */
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  what: string;
}

export interface Target {
  name: string;
  result: 'MET' | 'MISSED' | 'NOT RUN';
  detail: string;
}

const PARTS: (keyof CpuParts)[] = ['api', 'worker', 'sandbox', 'postgres', 'redis', 'generator'];

export function stepFigures(run: OnsaleRun): StepFigures[] {
  const r = run.records;
  const ms = (label: string) => run.http.series.get(label)?.ms ?? [];
  const rate = (times: number[]) => {
    if (times.length < 2) return times.length;
    const sorted = times.slice().sort((a, b) => a - b);
    return times.length / Math.max(0.001, (sorted.at(-1)! - sorted[0]!) / 1000);
  };
  const at = (f: (x: (typeof r)[number]) => number | null) => r.map(f).filter((t): t is number => t !== null);
  const waits = r.filter((x) => x.admittedAt !== null && x.enterRecv !== null).map((x) => x.admittedAt! - Math.max(x.enterRecv!, run.openAtMs));
  const row = (step: string, times: number[], lat: number[], what: string): StepFigures => ({
    step,
    count: times.length,
    perSecond: rate(times),
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    what,
  });
  return [
    row(
      'enter',
      at((x) => x.enterRecv),
      ms('enter'),
      'POST …/queue answered',
    ),
    row(
      'admitted',
      at((x) => x.admittedAt),
      waits,
      'latency = wait in the queue after the opening',
    ),
    row(
      'hold',
      at((x) => x.heldAt),
      ms('hold'),
      'POST …/holds (201 and 409 alike)',
    ),
    row(
      'order',
      at((x) => x.orderedAt),
      ms('order'),
      'POST /v1/orders',
    ),
    row(
      'confirm',
      at((x) => x.paidAt),
      ms('confirm'),
      'POST /v1/payments/confirm → PAID',
    ),
  ];
}

/** CPU by part from the opening to the sell-out (or the crowd's end), per seat sold and per paid order. */
export function cpuFigures(run: OnsaleRun) {
  const s = run.samples;
  const end = run.soldOutAt ?? run.crowdSeconds;
  const first = s.find((x) => x.t >= 0) ?? s[0];
  const last = [...s].reverse().find((x) => x.t <= end) ?? s.at(-1);
  if (!first || !last || last === first) return null;
  const purchases = Math.max(1, last.paid - first.paid);
  const seconds = last.t - first.t;
  const perPurchaseUs = {} as Record<keyof CpuParts, number>;
  let total = 0;
  for (const p of PARTS) {
    perPurchaseUs[p] = (last.cpu[p] - first.cpu[p]) / 1000 / purchases;
    total += perPurchaseUs[p];
  }
  const utilisation = (total * purchases) / 1e6 / (seconds * run.cores);
  // At full use of every core, `purchases` paid orders need total µs each: that is the ceiling.
  const ceilingSeconds = (total * purchases) / 1e6 / run.cores;
  return { from: first.t, to: last.t, seconds, purchases, perPurchaseUs, totalUs: total, utilisation, ceilingSeconds };
}

export function targets(run: OnsaleRun, cpu: ReturnType<typeof cpuFigures>): Target[] {
  const checksOk = run.checks.every((c) => c.ok);
  const big = run.options.buyers >= 20_000 && run.options.seats >= 2_000;
  const burst = healthDuringBurst(run);
  const demand = burstDemand(run);
  const loops = loopsDuringBurst(run);
  return [
    {
      name: `20,000 buyers, 2,000 seats${run.options.chaos ? ', --chaos' : ''}: sold out, all checks passing`,
      result: !big ? 'NOT RUN' : run.soldOutAt !== null && checksOk ? 'MET' : 'MISSED',
      detail: `${run.options.buyers.toLocaleString('en-US')} buyers, ${run.options.seats.toLocaleString('en-US')} seats: ${run.soldOutAt !== null ? `sold out in ${run.soldOutAt.toFixed(1)} s` : 'not sold out'}, ${run.checks.filter((c) => c.ok).length}/${run.checks.length} checks passed`,
    },
    {
      name: 'sell-out time within 2× of the CPU ceiling',
      result: run.soldOutAt === null || !cpu ? 'MISSED' : run.soldOutAt <= 2 * cpu.ceilingSeconds ? 'MET' : 'MISSED',
      detail: cpu
        ? `sold out in ${run.soldOutAt?.toFixed(1) ?? '—'} s; ceiling ${cpu.ceilingSeconds.toFixed(1)} s (${fmtInt(cpu.totalUs)} µs per paid order × ${cpu.purchases} ÷ ${run.cores} cores); ratio ${run.soldOutAt !== null ? (run.soldOutAt / cpu.ceilingSeconds).toFixed(2) : '—'}`
        : 'no CPU samples',
    },
    {
      name: '100,000 buyers in the queue: /health/live p99 < 100 ms during the burst',
      result: run.options.buyers < 100_000 ? 'NOT RUN' : burst.p99 < 100 && burst.failures === 0 ? 'MET' : 'MISSED',
      detail: `${run.options.buyers.toLocaleString('en-US')} buyers: p99 ${burst.p99.toFixed(1)} ms over ${burst.n} probes during the burst, ${burst.failures} failed${
        demand
          ? `; the burst asked for ${demand.cores.toFixed(2)} cores of ${run.cores} (${fmtInt(demand.enters)} enters and ${fmtInt(demand.polls)} polls in ${demand.seconds.toFixed(0)} s at this run's CPU per step)`
          : ''
      }${loops ? `; the APIs' ${loopsLine(loops)}` : ''}${run.options.buyers < 100_000 ? ' (run with --buyers 100000 to judge it)' : ''}`,
    },
  ];
}

export function healthDuringBurst(run: OnsaleRun): { p50: number; p99: number; n: number; failures: number } {
  const inBurst: number[] = [];
  let failures = 0;
  run.health.ms.forEach((ms, k) => {
    const at = run.health.at[k]!;
    if (at < run.firstArrivalMs || at > run.burstEndMs) return;
    inBurst.push(ms);
    if (run.health.status[k] !== 200) failures++;
  });
  return { p50: percentile(inBurst, 50), p99: percentile(inBurst, 99), n: inBurst.length, failures };
}

/**
 * The APIs' event loops during the burst, from their /metrics: the longest delay and the worst
 * 2-s p99 (a reading covers the 2 s before it), and the GC pauses between the last reading before
 * the first arrival and the first after the burst — summed over the APIs. A probe slower than
 * the loop's delay waited elsewhere: for a core, or in the kernel.
 */
export function loopsDuringBurst(
  run: OnsaleRun,
): { delayMaxMs: number; delayP99Ms: number; gc: Record<string, { count: number; ms: number }>; readings: number } | null {
  const inside = run.loops.filter((l) => l.at > run.firstArrivalMs && l.at <= run.burstEndMs + 2000);
  if (!inside.length) return null;
  const gc: Record<string, { count: number; ms: number }> = {};
  const apis = new Set(run.loops.map((l) => l.api));
  for (const api of apis) {
    const mine = run.loops.filter((l) => l.api === api);
    const before = mine.filter((l) => l.at <= run.firstArrivalMs).at(-1);
    const after = mine.find((l) => l.at >= run.burstEndMs) ?? mine.at(-1);
    if (!after) continue;
    for (const [kind, v] of Object.entries(after.gc)) {
      const b = before?.gc[kind] ?? { count: 0, ms: 0 };
      const g = (gc[kind] ??= { count: 0, ms: 0 });
      g.count += v.count - b.count;
      g.ms += v.ms - b.ms;
    }
  }
  return {
    delayMaxMs: Math.max(...inside.map((l) => l.delayMaxMs)),
    delayP99Ms: Math.max(...inside.map((l) => l.delayP99Ms)),
    gc,
    readings: inside.length,
  };
}

function loopsLine(l: NonNullable<ReturnType<typeof loopsDuringBurst>>): string {
  const gc = Object.entries(l.gc)
    .filter(([, v]) => v.count > 0)
    .map(([kind, v]) => `${kind} ${fmtInt(v.count)} (${fmtInt(v.ms)} ms)`)
    .join(', ');
  return `event-loop delay max ${l.delayMaxMs.toFixed(0)} ms, worst 2-s p99 ${l.delayP99Ms.toFixed(0)} ms; GC ${gc || 'none'}`;
}

/**
 * What the burst asked of the machine: the enters and polls answered from the first arrival to
 * the burst's end, priced at the CPU µs per step of the same run — in cores. More than the
 * machine has, and requests wait for a core: the probes' latency is that wait.
 */
export function burstDemand(run: OnsaleRun): { enters: number; polls: number; seconds: number; cores: number } | null {
  const enterUs = run.steps?.find((s) => s.step === 'enter')?.perRequestUs.total;
  const pollUs = run.steps?.find((s) => s.step === 'poll')?.perRequestUs.total;
  if (enterUs === undefined || pollUs === undefined) return null;
  const inBurst = (label: string) => (run.http.series.get(label)?.at ?? []).filter((at) => at >= run.firstArrivalMs && at <= run.burstEndMs).length;
  const enters = inBurst('enter');
  const polls = inBurst('poll');
  const seconds = (run.burstEndMs - run.firstArrivalMs) / 1000;
  return { enters, polls, seconds, cores: (enters * enterUs + polls * pollUs) / 1e6 / seconds };
}

export function printReport(run: OnsaleRun, bare: Figures | null): { steps: StepFigures[]; cpu: ReturnType<typeof cpuFigures>; targets: Target[] } {
  const steps = stepFigures(run);
  const cpu = cpuFigures(run);
  const t = targets(run, cpu);
  const o = run.options;
  console.log('');
  console.log(
    `On-sale day: ${o.buyers.toLocaleString('en-US')} buyers, ${o.seats.toLocaleString('en-US')} seats, ${o.coupons} coupons, ${o.apis} API + ${o.workers} worker processes${o.chaos ? ', --chaos' : ''}${o.apiNodeFlags?.length ? ` (APIs run with ${o.apiNodeFlags.join(' ')})` : ''}${o.apiNice ? ` (APIs at niceness ${o.apiNice})` : ''}${o.connections ? ` (${o.connections} crowd connections per API)` : ''}; ${run.cores} cores (load average ${run.loadAverageAtStart.toFixed(2)} at start)`,
  );
  console.log(
    `Sell-out: ${run.soldOutAt !== null ? `${run.soldOutAt.toFixed(1)} s after the opening` : 'NOT sold out'}; the crowd ended ${run.crowdSeconds.toFixed(1)} s after it`,
  );
  console.log('');
  printTable([
    ['step', 'done', 'per s', 'p50 ms', 'p99 ms', 'what'],
    ...steps.map((s) => [s.step, fmtInt(s.count), s.perSecond.toFixed(1), s.p50Ms.toFixed(1), s.p99Ms.toFixed(1), s.what]),
  ]);
  if (bare) console.log(`bare Fastify GET /health/live on this machine, same run: ${fmtInt(bare.rps)} req/s, p50 ${bare.p50} ms, p99 ${bare.p99} ms`);
  const burst = healthDuringBurst(run);
  console.log(
    `MOS GET /health/live during the burst (10 probes/s): p50 ${burst.p50.toFixed(1)} ms, p99 ${burst.p99.toFixed(1)} ms (${burst.n} probes, ${burst.failures} failed)`,
  );
  const loops = loopsDuringBurst(run);
  if (loops) console.log(`The APIs during the burst (their /metrics every 2 s, both summed): ${loopsLine(loops)}`);
  console.log('');
  console.log('Requests by route (statuses; 0 = connection error, retried on another API)');
  printTable([
    ['route', 'calls', 'p50 ms', 'p99 ms', 'statuses'],
    ...[...run.http.series].map(([label, s]) => [
      label,
      fmtInt(s.ms.length),
      percentile(s.ms, 50).toFixed(1),
      percentile(s.ms, 99).toFixed(1),
      [...s.statuses].map(([k, v]) => `${k}×${fmtInt(v)}`).join(' '),
    ]),
  ]);
  console.log('');
  console.log(
    `Buyers by outcome: ${Object.entries(outcomesOf(run.records))
      .map(([k, v]) => `${k} ${fmtInt(v)}`)
      .join(', ')}`,
  );
  if (cpu) {
    console.log('');
    console.log(
      `CPU µs per paid order by part, from the opening to the ${run.soldOutAt !== null ? 'sell-out' : "crowd's end"} (${cpu.seconds.toFixed(1)} s, ${cpu.purchases} paid orders, every buyer's requests included — the queue's too; cores ${(cpu.utilisation * 100).toFixed(0)}% busy)`,
    );
    printTable([
      ['', ...PARTS, 'total', 'ceiling'],
      [
        'µs per paid order',
        ...PARTS.map((p) => fmtInt(cpu.perPurchaseUs[p])),
        fmtInt(cpu.totalUs),
        `${cpu.ceilingSeconds.toFixed(1)} s to sell out on ${run.cores} cores`,
      ],
    ]);
    console.log("(postgres: the backends of this run's database; redis: the whole shared server; generator: this process, the crowd itself)");
  }
  if (run.steps) {
    console.log('');
    console.log(
      `CPU µs per step by part: ${fmtInt(run.steps[0]?.requests ?? 0)} buyers through each step alone, on a second showtime of the same cluster after the checks (the workers' CPU meanwhile counted to the step)`,
    );
    printTable([
      ['step', ...PARTS, 'total', 'per s', 'answers'],
      ...run.steps.map((st) => [
        st.step,
        ...PARTS.map((p) => fmtInt(st.perRequestUs[p])),
        fmtInt(st.perRequestUs.total),
        (st.requests / st.seconds).toFixed(0),
        Object.entries(st.statuses)
          .map(([k, v]) => `${k}×${fmtInt(v)}`)
          .join(' '),
      ]),
    ]);
    console.log('(confirm: the sandbox checkout and the confirm; every step sent by this process, concurrency 64)');
  }
  if (run.faults.length) {
    console.log('');
    console.log(`Faults: ${run.faults.map((f) => `${f.t.toFixed(1)} s ${f.what}`).join('; ')}`);
    console.log(
      `Confirm answers: ${Object.entries(run.confirmAnswers)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')}; connection errors retried: ${run.http.networkErrors}`,
    );
  }
  console.log('');
  console.log('Checks');
  printTable([['check', 'result', 'detail'], ...run.checks.map((c) => [c.name, c.ok ? 'PASS' : 'FAIL', c.detail])]);
  console.log('');
  console.log('Targets');
  printTable([['target', 'result', 'measured'], ...t.map((x) => [x.name, x.result, x.detail])]);
  return { steps, cpu, targets: t };
}

/** Per-second series for the JSON and the chart. */
export function timeline(run: OnsaleRun) {
  const admittedAt = run.records.filter((r) => r.admittedAt !== null).map((r) => (r.admittedAt! - run.openAtMs) / 1000);
  const bySecond = new Map<number, number>();
  for (const t of admittedAt) bySecond.set(Math.floor(t), (bySecond.get(Math.floor(t)) ?? 0) + 1);
  const seconds = new Map<number, OnsaleRun['samples'][number]>();
  for (const s of run.samples) seconds.set(Math.floor(s.t), s);
  return [...seconds.values()].map((s) => ({
    t: Math.floor(s.t),
    waiting: s.waiting,
    active: s.active,
    admittedPerSecond: bySecond.get(Math.floor(s.t)) ?? 0,
    sold: s.sold,
    held: s.held,
    paid: s.paid,
  }));
}

export function writeJson(path: string, run: OnsaleRun, r: ReturnType<typeof printReport>, bare: Figures | null): void {
  const series = Object.fromEntries(
    [...run.http.series].map(([k, s]) => [
      k,
      { calls: s.ms.length, p50Ms: round(percentile(s.ms, 50)), p99Ms: round(percentile(s.ms, 99)), statuses: Object.fromEntries(s.statuses) },
    ]),
  );
  const json = {
    when: new Date().toISOString(),
    options: run.options,
    cores: run.cores,
    loadAverageAtStart: round(run.loadAverageAtStart),
    soldOutSeconds: run.soldOutAt === null ? null : round(run.soldOutAt),
    crowdSeconds: round(run.crowdSeconds),
    steps: r.steps.map((s) => ({ ...s, perSecond: round(s.perSecond), p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms) })),
    bare: bare ? { rps: Math.round(bare.rps), p50Ms: bare.p50, p99Ms: bare.p99 } : null,
    healthDuringBurst: healthDuringBurst(run),
    loopsDuringBurst: loopsDuringBurst(run),
    burstDemand: burstDemand(run),
    cpu: r.cpu
      ? {
          perPaidOrderUs: Object.fromEntries(Object.entries(r.cpu.perPurchaseUs).map(([k, v]) => [k, Math.round(v)])),
          totalUs: Math.round(r.cpu.totalUs),
          utilisation: round(r.cpu.utilisation, 3),
          ceilingSeconds: round(r.cpu.ceilingSeconds),
          paidOrders: r.cpu.purchases,
        }
      : null,
    cpuPerStep: run.steps
      ? run.steps.map((st) => ({
          step: st.step,
          requests: st.requests,
          perSecond: round(st.requests / st.seconds),
          statuses: st.statuses,
          perRequestUs: Object.fromEntries(Object.entries(st.perRequestUs).map(([k, v]) => [k, Math.round(v)])),
        }))
      : null,
    routes: series,
    outcomes: outcomesOf(run.records),
    faults: run.faults,
    confirmAnswers: run.confirmAnswers,
    checks: run.checks,
    targets: r.targets,
    settlement: run.settlement,
    timeline: timeline(run),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
}

/** Queue length, admissions per second and seats sold over time, one panel each, as a PNG. */
export async function writeChart(path: string, run: OnsaleRun): Promise<void> {
  const rows = timeline(run);
  const title = `MOS on-sale day: ${run.options.buyers.toLocaleString('en-US')} buyers, ${run.options.seats.toLocaleString('en-US')} seats${run.options.chaos ? ', --chaos' : ''} — ${
    run.soldOutAt !== null ? `sold out in ${run.soldOutAt.toFixed(1)} s` : 'not sold out'
  }`;
  const rules = [
    { t: 0, label: 'opening' },
    ...(run.soldOutAt !== null ? [{ t: run.soldOutAt, label: 'sold out' }] : []),
    ...run.faults.filter((f) => !f.what.includes('restarted')).map((f) => ({ t: f.t, label: f.what.split(':')[0]!.split(' (')[0]! })),
  ];
  const panel = (field: string, heading: string, color: string) => ({
    width: 720,
    height: 120,
    title: { text: heading, anchor: 'start' as const, fontSize: 12 },
    layer: [
      {
        data: { values: rows },
        mark: { type: 'area' as const, line: { color }, color, opacity: 0.35, interpolate: 'step-after' as const },
        encoding: {
          x: { field: 't', type: 'quantitative' as const, title: 'seconds since the sale opened' },
          y: { field, type: 'quantitative' as const, title: null },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule' as const, color: '#c0392b', strokeDash: [4, 3] },
        encoding: { x: { field: 't', type: 'quantitative' as const } },
      },
      {
        data: { values: rules },
        mark: { type: 'text' as const, color: '#c0392b', align: 'left' as const, dx: 3, baseline: 'top' as const, fontSize: 10, y: 2 },
        encoding: { x: { field: 't', type: 'quantitative' as const }, text: { field: 'label' } },
      },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 14 },
    vconcat: [
      panel('waiting', 'buyers waiting in the queue', '#2c7fb8'),
      panel('admittedPerSecond', 'buyers admitted per second', '#41ab5d'),
      panel('sold', 'seats sold', '#8856a7'),
    ],
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 1.5 } })
    .render()
    .asPng();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, png);
}
