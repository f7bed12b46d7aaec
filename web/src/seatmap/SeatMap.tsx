import { useEffect, useRef, useState } from 'preact/hooks';
import type { Layout } from '../api/types.ts';
import { useI18n } from '../i18n.ts';
import type { Direction, SeatGeometry } from './geometry.ts';

/** Fill of each grade (available seats), in the order of the layout's grades. */
export const GRADE_COLORS = ['#7b2cbf', '#d62839', '#f08c00', '#2a9d8f', '#1971c2', '#9c6644', '#e64980', '#5c940d'];
export const HELD_COLOR = '#c9ced6';
export const SOLD_COLOR = '#5b616b';
export const SELECTED_COLOR = '#111827';
export const MINE_COLOR = '#12b886';

export interface SeatMapProps {
  geometry: SeatGeometry;
  layout: Layout;
  /** Live status code per seat index (0 available, 1 held, 2 sold, 3 reserved), from AvailabilityState. */
  codes: Uint8Array;
  /** Changes whenever `codes` changed in place. */
  version: number;
  selected: ReadonlySet<number>;
  mine: ReadonlySet<number>;
  onToggle: (index: number) => void;
}

interface View {
  scale: number; // CSS pixels per seat pitch
  ox: number;
  oy: number;
}

const MIN_SCALE = 0.5;
const MAX_SCALE = 60;

/**
 * The seat map on a canvas. Every frame draws the seats in view as one path per colour (a
 * few thousand rect() calls, then one fill each), and only when something changed: a status,
 * the selection, the view. So 50,000 seats pan and zoom at the display's rate. Keyboard: the
 * canvas takes focus; arrows move a focus ring from seat to seat (announced in a live region),
 * Enter or Space selects, + − 0 zoom and fit.
 */
export function SeatMap(props: SeatMapProps) {
  const { t, money } = useI18n();
  const { geometry: g, layout } = props;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const view = useRef<View>({ scale: 1, ox: 0, oy: 0 });
  const size = useRef({ w: 0, h: 0 });
  const frame = useRef(0);
  const focus = useRef(-1);
  const propsRef = useRef(props);
  propsRef.current = props;
  const [announce, setAnnounce] = useState('');
  const painted = useRef(false);

  const draw = () => {
    const started = performance.now();
    frame.current = 0;
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d', { alpha: false })!;
    const { w, h } = size.current;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    const { scale: s, ox, oy } = view.current;
    const { codes, selected, mine } = propsRef.current;
    const gradeCount = layout.grades.length;
    const paths = Array.from({ length: gradeCount + 2 }, () => new Path2D());
    const side = Math.max(1, s * 0.8);
    const half = side / 2;
    const x0 = -ox / s - 1;
    const x1 = (w - ox) / s + 1;
    const y0 = -oy / s - 1;
    const y1 = (h - oy) / s + 1;
    const { xs, ys, grade } = g;
    for (let i = 0; i < g.n; i++) {
      const x = xs[i]!;
      const y = ys[i]!;
      if (x < x0 || x > x1 || y < y0 || y > y1) continue;
      const code = codes[i]!;
      const bucket = code === 0 ? grade[i]! : code === 1 ? gradeCount : gradeCount + 1;
      paths[bucket]!.rect(ox + x * s - half, oy + y * s - half, side, side);
    }
    for (let k = 0; k < paths.length; k++) {
      ctx.fillStyle = k < gradeCount ? GRADE_COLORS[k % GRADE_COLORS.length]! : k === gradeCount ? HELD_COLOR : SOLD_COLOR;
      ctx.fill(paths[k]!);
    }
    const mark = (set: ReadonlySet<number>, color: string) => {
      ctx.fillStyle = color;
      for (const i of set) ctx.fillRect(ox + xs[i]! * s - half, oy + ys[i]! * s - half, side, side);
    };
    mark(mine, MINE_COLOR);
    mark(selected, SELECTED_COLOR);
    if (s >= 6) {
      ctx.fillStyle = '#343a40';
      ctx.font = `600 ${Math.min(16, Math.max(10, s * 0.7))}px system-ui, sans-serif`;
      ctx.textBaseline = 'bottom';
      for (const sec of g.sections) ctx.fillText(sec.name, ox + sec.x * s - half, oy + sec.y * s - half - 3);
    }
    const f = focus.current;
    if (f >= 0 && document.activeElement === canvas) {
      ctx.strokeStyle = '#0b7285';
      ctx.lineWidth = 3;
      ctx.strokeRect(ox + xs[f]! * s - half - 3, oy + ys[f]! * s - half - 3, side + 6, side + 6);
    }
    if (!painted.current) {
      painted.current = true;
      performance.mark('seatmap-first-paint');
      canvas.dataset.painted = 'true';
    }
    // What the last frame cost to draw (read by bench/web.ts).
    canvas.dataset.drawMs = (performance.now() - started).toFixed(2);
  };
  const invalidate = () => {
    if (!frame.current) frame.current = requestAnimationFrame(draw);
  };

  const fitView = () => {
    const { w, h } = size.current;
    const spanX = g.maxX - g.minX + 2;
    const spanY = g.maxY - g.minY + 3;
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE / 4, Math.min(w / spanX, h / spanY)));
    view.current = { scale, ox: (w - (g.maxX + g.minX) * scale) / 2, oy: (h - (g.maxY + g.minY) * scale) / 2 };
    invalidate();
  };

  const zoomAt = (factor: number, cx: number, cy: number) => {
    const v = view.current;
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE / 4, v.scale * factor));
    const k = scale / v.scale;
    view.current = { scale, ox: cx - (cx - v.ox) * k, oy: cy - (cy - v.oy) * k };
    invalidate();
  };

  // Size the canvas to its box (and the screen's pixel ratio), keeping the view's centre.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const resize = () => {
      const rect = canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const first = size.current.w === 0;
      size.current = { w: rect.width, h: rect.height };
      canvas.width = Math.round(rect.width * dpr);
      canvas.height = Math.round(rect.height * dpr);
      if (first) fitView();
      else invalidate();
    };
    const observer = new ResizeObserver(resize);
    observer.observe(canvas);
    resize();
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [g]);

  useEffect(invalidate, [props.version, props.selected, props.mine]);

  // Pointer: drag to pan, pinch to zoom, a tap or click (without moving) toggles a seat.
  useEffect(() => {
    const canvas = canvasRef.current!;
    const pointers = new Map<number, { x: number; y: number }>();
    let moved = 0;
    let pinch = 0;
    const local = (e: PointerEvent | WheelEvent) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const down = (e: PointerEvent) => {
      canvas.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, local(e));
      moved = 0;
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = Math.hypot(a!.x - b!.x, a!.y - b!.y);
      }
    };
    const move = (e: PointerEvent) => {
      const last = pointers.get(e.pointerId);
      if (!last) return;
      const p = local(e);
      pointers.set(e.pointerId, p);
      if (pointers.size === 1) {
        moved += Math.abs(p.x - last.x) + Math.abs(p.y - last.y);
        view.current = { ...view.current, ox: view.current.ox + p.x - last.x, oy: view.current.oy + p.y - last.y };
        invalidate();
      } else if (pointers.size === 2) {
        moved = Infinity;
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a!.x - b!.x, a!.y - b!.y);
        if (pinch > 0) zoomAt(d / pinch, (a!.x + b!.x) / 2, (a!.y + b!.y) / 2);
        pinch = d;
      }
    };
    const up = (e: PointerEvent) => {
      const p = pointers.get(e.pointerId);
      pointers.delete(e.pointerId);
      if (!p || moved > 6 || pointers.size > 0) return;
      const v = view.current;
      const i = g.at((p.x - v.ox) / v.scale, (p.y - v.oy) / v.scale);
      if (i >= 0) {
        focus.current = i;
        propsRef.current.onToggle(i);
      }
    };
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = local(e);
      zoomAt(Math.exp(-e.deltaY * 0.0015), p.x, p.y);
    };
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointercancel', up);
    canvas.addEventListener('wheel', wheel, { passive: false });
    return () => {
      canvas.removeEventListener('pointerdown', down);
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerup', up);
      canvas.removeEventListener('pointercancel', up);
      canvas.removeEventListener('wheel', wheel);
    };
  }, [g]);

  const statusName = (i: number) => {
    if (propsRef.current.mine.has(i)) return t('seats.yours');
    if (propsRef.current.selected.has(i)) return t('seats.selected');
    const code = propsRef.current.codes[i];
    return code === 0 ? t('seats.available') : code === 1 ? t('seats.held') : t('seats.sold');
  };
  const describe = (i: number) => {
    const seat = layout.seats[i]!;
    return t('seats.focus', { label: seat.label, grade: seat.grade, price: money(seat.price), status: statusName(i) });
  };

  /** Pans so the focused seat is in view. */
  const reveal = (i: number) => {
    const v = view.current;
    const { w, h } = size.current;
    const sx = v.ox + g.xs[i]! * v.scale;
    const sy = v.oy + g.ys[i]! * v.scale;
    const margin = Math.max(24, v.scale * 2);
    let { ox, oy } = v;
    if (sx < margin) ox += margin - sx;
    if (sx > w - margin) ox -= sx - (w - margin);
    if (sy < margin) oy += margin - sy;
    if (sy > h - margin) oy -= sy - (h - margin);
    view.current = { ...v, ox, oy };
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const arrows: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };
    const { w, h } = size.current;
    if (e.key in arrows) {
      e.preventDefault();
      focus.current = focus.current < 0 ? firstAvailable() : g.neighbor(focus.current, arrows[e.key]!);
      if (view.current.scale < 8) zoomAt(12 / view.current.scale, w / 2, h / 2);
      reveal(focus.current);
      setAnnounce(describe(focus.current));
      invalidate();
    } else if ((e.key === 'Enter' || e.key === ' ') && focus.current >= 0) {
      e.preventDefault();
      propsRef.current.onToggle(focus.current);
    } else if (e.key === '+' || e.key === '=') {
      zoomAt(1.4, w / 2, h / 2);
    } else if (e.key === '-' || e.key === '_') {
      zoomAt(1 / 1.4, w / 2, h / 2);
    } else if (e.key === '0') {
      fitView();
    }
  };
  const firstAvailable = () => {
    const codes = propsRef.current.codes;
    for (let i = 0; i < g.n; i++) if (codes[i] === 0 && !propsRef.current.selected.has(i)) return i;
    return 0;
  };
  // After a toggle, say the seat's new state.
  useEffect(() => {
    if (focus.current >= 0 && document.activeElement === canvasRef.current) setAnnounce(describe(focus.current));
  }, [props.selected, props.mine]);

  return (
    <div class="seatmap">
      <div class="seatmap-tools">
        <button type="button" onClick={() => zoomAt(1.4, size.current.w / 2, size.current.h / 2)} aria-label={t('seats.zoomIn')}>
          +
        </button>
        <button type="button" onClick={() => zoomAt(1 / 1.4, size.current.w / 2, size.current.h / 2)} aria-label={t('seats.zoomOut')}>
          −
        </button>
        <button type="button" onClick={fitView}>
          {t('seats.fit')}
        </button>
      </div>
      <canvas
        ref={canvasRef}
        class="seatmap-canvas"
        tabIndex={0}
        aria-roledescription="seat map"
        aria-label={t('seats.mapLabel', { n: g.n.toLocaleString() })}
        data-seats={g.n}
        onKeyDown={onKeyDown}
        onFocus={invalidate}
        onBlur={invalidate}
      />
      <p class="visually-hidden" aria-live="polite" data-testid="seat-focus">
        {announce}
      </p>
    </div>
  );
}
