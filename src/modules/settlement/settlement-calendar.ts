/**
 * Calendar days in a time zone (SETTLEMENT_TIMEZONE), as half-open UTC instants `[start, end)`.
 * Pure: the instant is passed in. Uses the runtime's IANA zone data (Intl), so a zone with
 * daylight saving gets its 23- and 25-hour days right.
 */

export interface Period {
  start: Date;
  end: Date;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime knows `timeZone` (config validation). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of `at` in `timeZone`. */
function wallClock(at: Date, timeZone: string): { y: number; m: number; d: number; utcOfWall: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const [y, m, d] = [Number(parts.year), Number(parts.month), Number(parts.day)];
  return { y, m, d, utcOfWall: Date.UTC(y, m - 1, d, Number(parts.hour), Number(parts.minute), Number(parts.second)) };
}

/** The zone's offset from UTC at `at`, in ms (Asia/Seoul: +9 h). */
function offsetAt(at: number, timeZone: string): number {
  const whole = Math.floor(at / 1000) * 1000;
  return wallClock(new Date(whole), timeZone).utcOfWall - whole;
}

/** The instant the local date `y-m-d` begins in `timeZone`. */
function startOfLocalDay(y: number, m: number, d: number, timeZone: string): Date {
  const wall = Date.UTC(y, m - 1, d);
  const first = wall - offsetAt(wall, timeZone);
  // Across an offset change the first guess is off by the change: a second pass settles it.
  const second = wall - offsetAt(first, timeZone);
  return new Date(second);
}

/** The local calendar day of `timeZone` that contains `at`. */
export function dayContaining(at: Date, timeZone: string): Period {
  const { y, m, d } = wallClock(at, timeZone);
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return {
    start: startOfLocalDay(y, m, d, timeZone),
    end: startOfLocalDay(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
  };
}

/** Yesterday in `timeZone`: the last calendar day that has closed at `now`. */
export function previousDay(now: Date, timeZone: string): Period {
  const today = dayContaining(now, timeZone);
  return dayContaining(new Date(today.start.getTime() - 1), timeZone);
}
