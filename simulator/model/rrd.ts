// Round-robin history in fixed-size ring buffers, laid out as PVE 9's rrd files (pve-node-9.0,
// pve-vm-9.0): AVERAGE and MAX archives of 1440 rows at 1 min, 30 min and 6 h, and 570 rows at
// 1 week. Samples feed the finest archive; a finished row feeds the next coarser one, so adding a
// sample costs O(fields) and memory never grows past the archives' size. Rows are allocated in
// pages as history reaches them, so a young cluster holds little.

/** PVE 9's archives: step in seconds and rows (pve-cluster's RRD definitions). */
export const RRD_ARCHIVES = [
  { step: 60, rows: 1440 },
  { step: 1800, rows: 1440 },
  { step: 21600, rows: 1440 },
  { step: 604800, rows: 570 },
] as const;

/**
 * What PVE 9's PVE::RRD::create_rrd_data reads per time frame: the step (which archive) and the
 * number of points. Decade is in the schema of node rrddata only.
 */
export const RRD_FRAMES = {
  hour: { step: 60, points: 60 },
  day: { step: 60, points: 1440 },
  week: { step: 1800, points: 336 },
  month: { step: 1800, points: 1440 },
  year: { step: 21600, points: 1440 },
  decade: { step: 604800, points: 570 },
} as const;
export type RrdFrame = keyof typeof RRD_FRAMES;

const PAGE_ROWS = 60;

interface Level {
  step: number;
  rows: number;
  /** Pages of PAGE_ROWS rows, allocated on first write. */
  avg: Array<Float32Array | undefined>;
  max: Array<Float32Array | undefined>;
  /** Which bucket each row holds, plus one (0: empty), so pages need no fill. */
  bucketOf: Array<Uint32Array | undefined>;
  acc: Float64Array;
  accMax: Float64Array;
  accN: number;
  accBucket: number;
  /** Scratch for the finished row handed to the next archive (no allocation per flush). */
  outAvg: Float64Array;
  outMax: Float64Array;
}

export class Rrd {
  private levels: Level[];

  constructor(private readonly fields: number) {
    this.levels = RRD_ARCHIVES.map(({ step, rows }) => ({
      step,
      rows,
      avg: [],
      max: [],
      bucketOf: [],
      acc: new Float64Array(fields),
      accMax: new Float64Array(fields).fill(-Infinity),
      accN: 0,
      accBucket: -1,
      outAvg: new Float64Array(fields),
      outMax: new Float64Array(fields),
    }));
  }

  /** Adds one sample taken at `tSec` (seconds). */
  add(tSec: number, values: ArrayLike<number>): void {
    this.feed(0, tSec, values, values);
  }

  private feed(li: number, tSec: number, avg: ArrayLike<number>, max: ArrayLike<number>): void {
    const lv = this.levels[li];
    if (!lv) return;
    const bucket = Math.floor(tSec / lv.step);
    if (lv.accN > 0 && bucket !== lv.accBucket) this.flush(li);
    lv.accBucket = bucket;
    for (let f = 0; f < this.fields; f++) {
      lv.acc[f]! += avg[f]!;
      if (max[f]! > lv.accMax[f]!) lv.accMax[f] = max[f]!;
    }
    lv.accN++;
  }

  private flush(li: number): void {
    const lv = this.levels[li]!;
    const slot = lv.accBucket % lv.rows;
    const page = Math.floor(slot / PAGE_ROWS);
    const at = (slot % PAGE_ROWS) * this.fields;
    if (!lv.avg[page]) {
      lv.avg[page] = new Float32Array(PAGE_ROWS * this.fields);
      lv.max[page] = new Float32Array(PAGE_ROWS * this.fields);
      lv.bucketOf[page] = new Uint32Array(PAGE_ROWS);
    }
    const avg = lv.outAvg;
    const max = lv.outMax;
    for (let f = 0; f < this.fields; f++) {
      avg[f] = lv.acc[f]! / lv.accN;
      max[f] = lv.accMax[f]!;
      lv.avg[page]![at + f] = avg[f]!;
      lv.max[page]![at + f] = max[f]!;
    }
    lv.bucketOf[page]![slot % PAGE_ROWS] = lv.accBucket + 1;
    const start = lv.accBucket * lv.step;
    lv.acc.fill(0);
    lv.accMax.fill(-Infinity);
    lv.accN = 0;
    this.feed(li + 1, start, avg, max);
  }

  /**
   * A frame's points as rrdtool fetch gives them to PVE: `points` rows ending at the current step
   * boundary, each labelled with the end of the interval it consolidates (so the interval still
   * running is not shown). A point without data is `values: null` (PVE returns only its time).
   */
  fetch(
    frame: RrdFrame,
    cf: 'AVERAGE' | 'MAX',
    nowSec: number,
  ): Array<{ time: number; values: number[] | null }> {
    const { step, points } = RRD_FRAMES[frame];
    const lv = this.levels.find((l) => l.step === step)!;
    const current = Math.floor(nowSec / step);
    const out: Array<{ time: number; values: number[] | null }> = [];
    for (let end = current - points + 1; end <= current; end++) {
      const b = end - 1; // the interval that ends at `end`
      out.push({ time: end * step, values: this.row(lv, b, cf) });
    }
    return out;
  }

  private row(lv: Level, b: number, cf: 'AVERAGE' | 'MAX'): number[] | null {
    // Not yet flushed (no sample after it so far, e.g. right after an offline spell): the accumulator.
    if (b === lv.accBucket && lv.accN > 0)
      return Array.from(cf === 'MAX' ? lv.accMax : lv.acc.map((v) => v / lv.accN));
    if (b < 0) return null;
    const slot = b % lv.rows;
    const page = Math.floor(slot / PAGE_ROWS);
    if (lv.bucketOf[page]?.[slot % PAGE_ROWS] !== b + 1) return null;
    const at = (slot % PAGE_ROWS) * this.fields;
    return Array.from((cf === 'MAX' ? lv.max : lv.avg)[page]!.subarray(at, at + this.fields));
  }
}
