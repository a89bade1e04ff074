// How the CLI writes: aligned tables and percentages for people, one JSON document for machines,
// and a progress line that rewrites itself on a terminal and prints one line per change elsewhere.

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  env: Readonly<Record<string, string | undefined>>;
}

export function line(stream: OutStream, text = ''): void {
  stream.write(`${text}\n`);
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Share of a total in percent, or null when the total is unknown (an offline node reports 0). */
export function percentOf(used: number, total: number): number | null {
  return total > 0 ? (used / total) * 100 : null;
}

export function showPercent(p: number | null): string {
  return p === null ? '-' : p.toFixed(1);
}

/** One decimal is what the lab printed and enough to compare with thresholds like 8 %. */
export function roundPercent(p: number | null): number | null {
  return p === null ? null : Math.round(p * 10) / 10;
}

/** Columns padded to their widest cell; `right` marks numeric columns, aligned right. */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  right: readonly number[] = [],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)].join('\n');
}

/** Seconds as "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * The step a workflow is at. On a terminal one line is rewritten in place; in a log or a pipe each
 * change is its own line, so the record shows every step.
 */
export class ProgressLine {
  private last = '';
  private open = false;

  constructor(private readonly stream: OutStream) {}

  show(text: string): void {
    if (text === this.last) return;
    this.last = text;
    if (this.stream.isTTY === true) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.open = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the rewritten line so what follows starts on a line of its own. */
  end(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}
