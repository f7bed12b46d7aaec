import { describe, expect, it } from 'vitest';
import { PREQUEUE_SPREAD_SECONDS, type PollPace, type QueueView, pollAfterSeconds } from './waiting-room.service.js';

const pace: PollPace = { now: 1_000_000, opensAt: 1_000_000, admitPerSecond: 100, mostSeconds: 20 };
const waiting = (ahead: number, eta: number | null): QueueView => ({ status: 'WAITING', position: ahead + 1, ahead, estimatedWaitSeconds: eta });
const mid = () => 0.5;

describe('pollAfterSeconds', () => {
  it('asks for half the estimated wait, at least 1 s, never more than the most', () => {
    expect(pollAfterSeconds(waiting(0, 0), pace, mid)).toBe(1);
    expect(pollAfterSeconds(waiting(300, 3), pace, mid)).toBe(2);
    expect(pollAfterSeconds(waiting(2000, 20), pace, mid)).toBe(10);
    expect(pollAfterSeconds(waiting(90_000, 900), pace, mid)).toBe(20);
  });

  it('jitters by ±10% so buyers answered together do not come back together', () => {
    expect(pollAfterSeconds(waiting(2000, 20), pace, () => 0)).toBe(9);
    expect(pollAfterSeconds(waiting(2000, 20), pace, () => 0.999)).toBe(11);
  });

  it('estimates from the most the room admits when no admission was measured yet', () => {
    // 1,000 ahead at 100 admitted per second: 10 s → 5 s.
    expect(pollAfterSeconds(waiting(1000, null), pace, mid)).toBe(5);
  });

  it('spreads the pre-queue over the seconds after the opening, capped by the most', () => {
    const pre: QueueView = { status: 'WAITING', position: null, ahead: 0, estimatedWaitSeconds: null };
    const before = { ...pace, now: pace.opensAt - 3000 };
    expect(pollAfterSeconds(pre, before, () => 0)).toBe(3);
    expect(pollAfterSeconds(pre, before, () => 0.999)).toBe(3 + PREQUEUE_SPREAD_SECONDS);
    expect(pollAfterSeconds(pre, { ...pace, now: pace.opensAt - 600_000 }, mid)).toBe(20);
    // After the opening, before the first tick drew the places: within the spread.
    expect(pollAfterSeconds(pre, { ...pace, now: pace.opensAt + 500 }, () => 0)).toBe(1);
  });

  it('keeps every buyer that follows it well inside the abandon timeout (most = a third of it)', () => {
    for (const eta of [0, 1, 7, 60, 3600, 86_400]) {
      const s = pollAfterSeconds(waiting(eta * 100, eta), pace);
      expect(s).toBeGreaterThanOrEqual(1);
      expect(s).toBeLessThanOrEqual(pace.mostSeconds);
    }
  });
});
