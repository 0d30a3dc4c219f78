/**
 * Progress of a bench run, on stderr (stdout carries only the report). On a terminal: one bar,
 * redrawn in place at most every REDRAW_MS, with the current phase, the time spent and an estimate
 * of the time left; log lines are printed above it. Elsewhere (CI logs, pipes): plain lines, one per
 * phase, prefixed with the percentage done.
 *
 * Work is counted in estimated milliseconds (see `streamWeight`), so the bar moves roughly evenly
 * through slow concurrency-1 cells and fast high-concurrency ones alike.
 */

import { performance } from 'node:perf_hooks';
import { formatDuration as duration } from './stats.ts';

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #total: number;
  readonly #started = performance.now();
  #done = 0;
  #phase = '';
  #lastDraw = 0;
  #drawn = false;

  constructor(out: NodeJS.WriteStream, total: number) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#total = Math.max(1, total);
  }

  #percent(): number {
    return Math.min(100, (this.#done / this.#total) * 100);
  }

  /** Starts a phase: redraws the bar (terminal), or prints a line (elsewhere). */
  phase(label: string): void {
    this.#phase = label;
    if (this.#tty) this.#draw();
    else this.#out.write(`[${this.#percent().toFixed(0).padStart(3)}%] ${label}\n`);
  }

  /** Counts `units` of work done. */
  advance(units: number): void {
    this.#done += units;
    if (this.#tty && performance.now() - this.#lastDraw >= REDRAW_MS) this.#draw();
  }

  /** A line of its own (errors, notes), above the bar. */
  log(line: string): void {
    if (this.#tty && this.#drawn) this.#out.write('\r\x1b[2K');
    this.#out.write(`${line}\n`);
    if (this.#tty) this.#draw();
  }

  /** Removes the bar; prints the total time. */
  finish(): void {
    const took = `done in ${duration(performance.now() - this.#started)}`;
    if (this.#tty) {
      if (this.#drawn) this.#out.write('\r\x1b[2K');
      this.#drawn = false;
      this.#out.write(`${took}\n`);
    } else this.#out.write(`[100%] ${took}\n`);
  }

  #draw(): void {
    this.#lastDraw = performance.now();
    const fraction = this.#percent() / 100;
    const filled = Math.round(fraction * BAR_WIDTH);
    const elapsed = performance.now() - this.#started;
    const left = fraction >= 0.03 && fraction < 1 ? `, ~${duration((elapsed * (1 - fraction)) / fraction)} left` : '';
    let line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${this.#percent().toFixed(0).padStart(3)}%  ${this.#phase}  (${duration(elapsed)}${left})`;
    const columns = this.#out.columns;
    if (columns && line.length >= columns) line = line.slice(0, columns - 1);
    this.#out.write(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }
}
