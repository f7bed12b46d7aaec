import { randomInt } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { CatalogErrors, type ScheduleView } from '../catalog/index.js';
import type { AdmissionTokens } from './admission-tokens.js';
import { WaitingRoomErrors } from './waiting-room.errors.js';
import type { WaitingRoomMetrics } from './waiting-room.metrics.js';
import type { RecentAdmissions, RoomRef, Standing, TickSettings, WaitingRoomStore } from './waiting-room.store.js';

export interface QueueView {
  status: 'WAITING' | 'ADMITTED';
  position: number | null;
  ahead: number;
  estimatedWaitSeconds: number | null;
  admissionToken?: string;
  admissionExpiresAt?: string;
}

export interface WaitingRoomSettings {
  tickMs: number;
  admissionTtlSeconds: number;
  abandonAfterSeconds: number;
  maxDropsPerTick: number;
  auditCap: number;
  tokenTtlSeconds: number;
}

export interface WaitingRoomServiceDeps {
  store: WaitingRoomStore;
  clock: Clock;
  tokens: AdmissionTokens;
  /** The catalog's read of a live showtime (sale window, waiting-room settings; cached there). */
  findSchedule: (id: string) => Promise<ScheduleView | undefined>;
  settings: WaitingRoomSettings;
  metrics: WaitingRoomMetrics;
  /** The opening shuffle's seed source; tests pass a fixed one. */
  seed?: () => number;
}

/** Per-showtime queues, admission and admission tokens. */
export class WaitingRoomService {
  readonly #seed: () => number;

  constructor(private readonly deps: WaitingRoomServiceDeps) {
    this.#seed = deps.seed ?? (() => randomInt(1, 2147483646));
  }

  async enter(userId: string, scheduleId: string): Promise<QueueView> {
    const schedule = await this.#requireRoom(scheduleId);
    const now = this.#now();
    if (now >= Date.parse(schedule.saleClosesAt)) throw CatalogErrors.SALE_CLOSED();
    const { standing, recent } = await this.deps.store.enter(roomOf(schedule), userId, now, this.#seed());
    return this.#view(userId, scheduleId, standing, recent, now);
  }

  /** The buyer's place (also their heartbeat); 404 NOT_IN_QUEUE if they are not in it. */
  async status(userId: string, scheduleId: string): Promise<QueueView> {
    const schedule = await this.#requireRoom(scheduleId);
    const now = this.#now();
    const { standings, recent } = await this.deps.store.standings(roomOf(schedule), [userId], now, this.#seed());
    const standing = standings[0]!;
    if (standing.state === 'ABSENT') throw WaitingRoomErrors.NOT_IN_QUEUE();
    return this.#view(userId, scheduleId, standing, recent, now);
  }

  /** Many buyers of one showtime in one store round trip: the stream's shared loop. */
  async statuses(scheduleId: string, userIds: readonly string[]): Promise<(QueueView | null)[]> {
    const schedule = await this.#schedule(scheduleId);
    if (!schedule?.waitingRoom.enabled) return userIds.map(() => null);
    const now = this.#now();
    const { standings, recent } = await this.deps.store.standings(roomOf(schedule), userIds, now, this.#seed());
    return Promise.all(standings.map((s, i) => (s.state === 'ABSENT' ? null : this.#view(userIds[i]!, scheduleId, s, recent, now))));
  }

  /**
   * What paces a showtime's waiting buyers (`pollAfterSeconds`); null when it has no waiting
   * room. The showtime comes from the catalog's cache: no store round trip.
   */
  async pace(scheduleId: string): Promise<PollPace | null> {
    const schedule = await this.#schedule(scheduleId);
    if (!schedule?.waitingRoom.enabled) return null;
    const { tickMs, abandonAfterSeconds } = this.deps.settings;
    return {
      now: this.#now(),
      opensAt: Date.parse(schedule.saleOpensAt),
      admitPerSecond: (schedule.waitingRoom.admitPerTick * 1000) / tickMs,
      mostSeconds: Math.max(1, Math.floor(abandonAfterSeconds / 3)),
    };
  }

  /** Leaves the queue, or frees the active slot of an admitted buyer. Leaving twice is fine. */
  async leave(userId: string, scheduleId: string): Promise<void> {
    const schedule = await this.#requireRoom(scheduleId);
    await this.deps.store.leave(roomOf(schedule), userId);
  }

  /**
   * Invariant 5: where a showtime has a waiting room, only admitted buyers reach its seats.
   * A valid token of this buyer for this showtime AND membership of the active set right now.
   */
  async requireAdmission(userId: string, schedule: ScheduleView | undefined, token: string | undefined): Promise<void> {
    if (!schedule?.waitingRoom.enabled) return;
    const refused = WaitingRoomErrors.ADMISSION_REQUIRED('A valid X-Admission-Token for this showtime is required');
    if (!token || !(await this.deps.tokens.valid(token, userId, schedule.id))) throw refused;
    if ((await this.deps.store.activeUntil(roomOf(schedule), userId, this.#now())) === null) throw refused;
  }

  /** One admission step for every room, under the leader's fencing token. */
  async tick(fence: number): Promise<void> {
    const end = this.deps.metrics.tickDuration.startTimer();
    try {
      for (const scheduleId of await this.deps.store.rooms()) {
        const schedule = await this.#schedule(scheduleId);
        const room: RoomRef = schedule ? roomOf(schedule) : { scheduleId, saleOpensAt: 0 };
        if (!schedule?.waitingRoom.enabled) {
          const { waiting, active } = await this.deps.store.counts(room);
          if (!waiting && !active) await this.deps.store.forgetRoom(scheduleId);
          continue;
        }
        const settings: TickSettings = {
          maxActive: schedule.waitingRoom.maxActive,
          admitPerTick: schedule.waitingRoom.admitPerTick,
          admissionTtlMs: this.deps.settings.admissionTtlSeconds * 1000,
          abandonAfterMs: this.deps.settings.abandonAfterSeconds * 1000,
          maxDropsPerTick: this.deps.settings.maxDropsPerTick,
          auditCap: this.deps.settings.auditCap,
        };
        const result = await this.deps.store.tick(room, settings, this.#now(), fence, this.#seed());
        if (result.stale) {
          this.deps.metrics.staleTicks.inc();
          return; // a newer leader exists: this worker stops admitting at once
        }
        const m = this.deps.metrics;
        m.waiting.set({ schedule: scheduleId }, result.waiting);
        m.active.set({ schedule: scheduleId }, result.active);
        if (result.admitted.length) m.admitted.inc({ schedule: scheduleId }, result.admitted.length);
        if (result.expired) m.dropped.inc({ schedule: scheduleId, reason: 'expired' }, result.expired);
        if (result.abandoned) m.dropped.inc({ schedule: scheduleId, reason: 'abandoned' }, result.abandoned);
        const closed = this.#now() >= Date.parse(schedule.saleClosesAt);
        if (closed && !result.waiting && !result.active) await this.deps.store.forgetRoom(scheduleId);
      }
    } finally {
      end();
    }
  }

  admissionLog(schedule: ScheduleView): Promise<string[]> {
    return this.deps.store.admissionLog(roomOf(schedule));
  }

  async #view(userId: string, scheduleId: string, standing: Standing, recent: RecentAdmissions, now: number): Promise<QueueView> {
    if (standing.state === 'ADMITTED') {
      const expiresAt = Math.min(standing.activeUntil, now + this.deps.settings.tokenTtlSeconds * 1000);
      return {
        status: 'ADMITTED',
        position: null,
        ahead: 0,
        estimatedWaitSeconds: 0,
        admissionToken: await this.deps.tokens.issue(userId, scheduleId, expiresAt),
        admissionExpiresAt: new Date(expiresAt).toISOString(),
      };
    }
    if (standing.state !== 'WAITING') return { status: 'WAITING', position: null, ahead: 0, estimatedWaitSeconds: null };
    return {
      status: 'WAITING',
      position: standing.rank + 1,
      ahead: standing.rank,
      estimatedWaitSeconds: estimateWait(standing.rank, recent, now, this.deps.settings.tickMs),
    };
  }

  async #requireRoom(scheduleId: string): Promise<ScheduleView> {
    const schedule = await this.#schedule(scheduleId);
    if (!schedule) throw CommonErrors.NOT_FOUND('No such schedule');
    if (!schedule.waitingRoom.enabled) throw WaitingRoomErrors.WAITING_ROOM_DISABLED();
    return schedule;
  }

  #schedule(id: string): Promise<ScheduleView | undefined> {
    return this.deps.findSchedule(id);
  }

  #now(): number {
    return this.deps.clock.now().getTime();
  }
}

const roomOf = (s: ScheduleView): RoomRef => ({ scheduleId: s.id, saleOpensAt: Date.parse(s.saleOpensAt) });

/**
 * Buyers ahead ÷ the admission rate measured over the last minute. The window runs from the
 * oldest admission in it to now, plus one tick (that admission's own interval). Null before any
 * admission: there is nothing to measure yet.
 */
export function estimateWait(ahead: number, recent: RecentAdmissions, now: number, tickMs: number): number | null {
  if (ahead === 0) return 0;
  if (recent.oldestAt === null || recent.admitted === 0) return null;
  const spanSeconds = (now - recent.oldestAt + tickMs) / 1000;
  const perSecond = recent.admitted / spanSeconds;
  return Math.ceil(ahead / perSecond);
}

/** What `pollAfterSeconds` needs of a showtime and its room's settings. */
export interface PollPace {
  now: number;
  /** Epoch ms of the sale's opening, when the pre-queue's places are drawn. */
  opensAt: number;
  /** The most buyers the room admits per second (admitPerTick per tick). */
  admitPerSecond: number;
  /** The longest a buyer is told to wait: a third of WAITING_ROOM_ABANDON_AFTER_SECONDS. */
  mostSeconds: number;
}

/** Pre-queue buyers ask again within this long after the opening, spread evenly over it. */
export const PREQUEUE_SPREAD_SECONDS = 5;

/**
 * When a waiting buyer should ask for its place again, in whole seconds: the `X-Poll-After`
 * header of `POST`/`GET …/queue`, and the pace of the events of its queue stream. Half its
 * estimated wait (±10%, so buyers who asked together do not come back together), at least 1 s;
 * the pre-queue, whose places are drawn at the opening, spread over the first
 * PREQUEUE_SPREAD_SECONDS after it rather than all at the opening instant. Never longer than
 * `mostSeconds`, so a buyer who follows it is never dropped as abandoned — even after losing two
 * answers in a row.
 *
 * Why: every waiting buyer asking every second or two is what saturates the API processes of a
 * large on-sale (100,000 buyers polling every 2 s are 50,000 requests/s), while the answer of a
 * buyer 50,000 places back cannot change much in a second. With this pace the requests of a
 * queue fall with the distance to the front: the buyers about to be admitted learn it within a
 * second, and the whole queue costs about (buyers ÷ mostSeconds) + 2 × the admission rate ×
 * ln(mostSeconds) requests per second, however long it is.
 */
export function pollAfterSeconds(view: QueueView, pace: PollPace, random: () => number = Math.random): number {
  const most = pace.mostSeconds;
  if (view.status === 'ADMITTED') return most;
  let seconds: number;
  if (view.position === null) {
    const untilOpen = Math.max(0, (pace.opensAt - pace.now) / 1000);
    seconds = untilOpen + random() * PREQUEUE_SPREAD_SECONDS;
  } else {
    const eta = view.estimatedWaitSeconds ?? view.ahead / pace.admitPerSecond;
    seconds = eta * (0.45 + 0.1 * random());
  }
  return Math.min(most, Math.max(1, Math.round(seconds)));
}
