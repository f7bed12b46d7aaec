import { describe, expect, it } from 'vitest';
import { runOnsale } from '../../bench/onsale/scene.js';

/**
 * The on-sale day in small (`npm run bench:onsale` at 1,000 buyers and 200 seats, with --chaos):
 * the whole scene on real processes — two APIs, two workers, the sandbox PG as its own process —
 * with the sandbox's timeouts, 5xx and dropped answers, an API and the leading worker SIGKILLed
 * and restarted, and the showtime's seat hot state flushed. Every invariant of the scene's
 * checks must hold, and the showtime must sell out. Half the bench's share of buyers walk away at
 * each step: an order left unpaid holds its seats for the whole payment window (30 s at least),
 * which is the long tail of a sell-out, and the suite's time is bounded.
 */
describe('the on-sale day, small, with chaos', () => {
  it('sells out and keeps every invariant through the faults', async () => {
    const lines: string[] = [];
    const run = await runOnsale({
      buyers: 1000,
      seats: 200,
      coupons: 50,
      apis: 2,
      workers: 2,
      chaos: true,
      abandonScale: 0.5,
      // The last seats come back only after a walked-away buyer's 30 s payment window: room for that tail.
      maxSaleSeconds: 120,
      log: (l) => lines.push(l),
    });
    const failed = run.checks.filter((c) => !c.ok);
    expect(failed, `${failed.map((c) => `${c.name}: ${c.detail}`).join('\n')}\n\n${lines.join('\n')}`).toEqual([]);
    expect(run.soldOutAt, lines.join('\n')).not.toBeNull();
    expect(run.faults.map((f) => f.what.split(' ')[0])).toEqual(expect.arrayContaining(['SIGKILL', 'flush']));
  }, 180_000);
});
