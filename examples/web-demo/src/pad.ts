import type { Emotion } from '@emofeedback/core';

/** One evaluator reading shown on the pad. */
export interface PadReading extends Emotion {
  /** The feedback round the image belongs to (colours the dot). */
  readonly round: number;
  /** The best reading so far: drawn larger, linked to the target. */
  readonly best?: boolean;
  /** Tooltip text. */
  readonly label: string;
}

const SVG = 'http://www.w3.org/2000/svg';
const SIZE = 320;
const MARGIN = 28;
const SPAN = SIZE - 2 * MARGIN;
const ROUND_COLOURS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed'];

const toX = (valence: number) => MARGIN + ((valence + 3) / 6) * SPAN;
const toY = (arousal: number) => MARGIN + ((3 - arousal) / 6) * SPAN;
const clamp = (v: number) => Math.min(3, Math.max(-3, v));
const round1 = (v: number) => Math.round(v * 10) / 10;
const signed = (v: number) => (v > 0 ? `+${v.toFixed(1)}` : v.toFixed(1));

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Words for a point of the valence-arousal plane, for screen readers and the caption. */
export function describeEmotion(e: Emotion): string {
  const v = e.valence > 0.5 ? 'pleasant' : e.valence < -0.5 ? 'unpleasant' : 'neutral';
  const a = e.arousal > 0.5 ? 'excited' : e.arousal < -0.5 ? 'calm' : 'moderate arousal';
  return `valence ${signed(e.valence)}, arousal ${signed(e.arousal)} (${v}, ${a})`;
}

/**
 * The 2-D valence-arousal pad: click or drag to set the target; arrow keys move it by 0.1
 * (Shift: 0.5), Home centres it. Evaluator readings are drawn as dots.
 */
export class EmotionPad {
  readonly element: SVGSVGElement;
  private target: Emotion;
  private readonly marker: SVGGElement;
  private readonly readingsLayer: SVGGElement;
  private readonly listeners = new Set<(e: Emotion) => void>();

  constructor(initial: Emotion) {
    this.target = initial;
    const svg = el('svg', {
      viewBox: `0 0 ${SIZE} ${SIZE}`,
      class: 'pad',
      tabindex: 0,
      role: 'application',
      'aria-roledescription': 'valence-arousal pad',
      'aria-label': 'Target emotion',
      'aria-describedby': 'pad-help',
      'data-testid': 'pad',
    });
    svg.append(el('rect', { x: MARGIN, y: MARGIN, width: SPAN, height: SPAN, class: 'pad-bg', rx: 6 }));
    for (let i = -3; i <= 3; i++) {
      const cls = i === 0 ? 'pad-axis' : 'pad-grid';
      svg.append(el('line', { x1: toX(i), y1: MARGIN, x2: toX(i), y2: SIZE - MARGIN, class: cls }));
      svg.append(el('line', { x1: MARGIN, y1: toY(i), x2: SIZE - MARGIN, y2: toY(i), class: cls }));
    }
    const mid = SIZE / 2;
    svg.append(
      el('text', { x: MARGIN + 2, y: mid - 6, class: 'pad-label', 'text-anchor': 'start' }, 'unpleasant'),
    );
    svg.append(
      el('text', { x: SIZE - MARGIN - 2, y: mid - 6, class: 'pad-label', 'text-anchor': 'end' }, 'pleasant'),
    );
    svg.append(el('text', { x: mid, y: MARGIN - 9, class: 'pad-label', 'text-anchor': 'middle' }, 'excited'));
    svg.append(el('text', { x: mid, y: SIZE - 10, class: 'pad-label', 'text-anchor': 'middle' }, 'calm'));
    this.readingsLayer = el('g', { class: 'pad-readings' });
    this.marker = el('g', { class: 'pad-target', 'data-testid': 'pad-target' });
    this.marker.append(el('circle', { r: 9, class: 'pad-target-ring' }));
    this.marker.append(el('line', { x1: -14, y1: 0, x2: 14, y2: 0, class: 'pad-target-cross' }));
    this.marker.append(el('line', { x1: 0, y1: -14, x2: 0, y2: 14, class: 'pad-target-cross' }));
    svg.append(this.readingsLayer, this.marker);
    this.element = svg;

    svg.addEventListener('pointerdown', (ev) => {
      svg.setPointerCapture(ev.pointerId);
      svg.focus();
      this.fromPointer(ev);
    });
    svg.addEventListener('pointermove', (ev) => {
      if (svg.hasPointerCapture(ev.pointerId)) this.fromPointer(ev);
    });
    svg.addEventListener('keydown', (ev) => this.onKey(ev));
    this.render();
  }

  /** The current target. */
  get value(): Emotion {
    return this.target;
  }

  /** Moves the target (clamped to [-3, 3], rounded to 0.1) and notifies listeners. */
  set(e: Emotion): void {
    const next = { valence: round1(clamp(e.valence)), arousal: round1(clamp(e.arousal)) };
    if (next.valence === this.target.valence && next.arousal === this.target.arousal) return;
    this.target = next;
    this.render();
    for (const fn of this.listeners) fn(next);
  }

  /** Calls `fn` whenever the target changes. */
  onChange(fn: (e: Emotion) => void): void {
    this.listeners.add(fn);
  }

  /** Replaces the dots. */
  showReadings(readings: readonly PadReading[]): void {
    this.readingsLayer.replaceChildren();
    const best = readings.find((r) => r.best);
    if (best) {
      this.readingsLayer.append(
        el('line', {
          x1: toX(this.target.valence),
          y1: toY(this.target.arousal),
          x2: toX(clamp(best.valence)),
          y2: toY(clamp(best.arousal)),
          class: 'pad-link',
        }),
      );
    }
    for (const r of readings) {
      const dot = el('circle', {
        cx: toX(clamp(r.valence)),
        cy: toY(clamp(r.arousal)),
        r: r.best ? 7 : 4.5,
        fill: ROUND_COLOURS[r.round % ROUND_COLOURS.length] as string,
        class: r.best ? 'pad-dot pad-dot-best' : 'pad-dot',
        'data-testid': 'pad-reading',
      });
      dot.append(el('title', {}, r.label));
      this.readingsLayer.append(dot);
    }
  }

  private fromPointer(ev: PointerEvent): void {
    const box = this.element.getBoundingClientRect();
    const x = ((ev.clientX - box.left) / box.width) * SIZE;
    const y = ((ev.clientY - box.top) / box.height) * SIZE;
    this.set({ valence: ((x - MARGIN) / SPAN) * 6 - 3, arousal: 3 - ((y - MARGIN) / SPAN) * 6 });
  }

  private onKey(ev: KeyboardEvent): void {
    const step = ev.shiftKey ? 0.5 : 0.1;
    const { valence, arousal } = this.target;
    const moves: Record<string, Emotion> = {
      ArrowLeft: { valence: valence - step, arousal },
      ArrowRight: { valence: valence + step, arousal },
      ArrowUp: { valence, arousal: arousal + step },
      ArrowDown: { valence, arousal: arousal - step },
      Home: { valence: 0, arousal: 0 },
    };
    const next = moves[ev.key];
    if (!next) return;
    ev.preventDefault();
    this.set(next);
  }

  private render(): void {
    const { valence, arousal } = this.target;
    this.marker.setAttribute('transform', `translate(${toX(valence)} ${toY(arousal)})`);
    this.element.setAttribute('aria-valuetext', describeEmotion(this.target));
  }
}
