// Round-robin history in fixed-size ring buffers, like rrdcached: each time frame keeps 70 points of
// AVERAGE and MAX. Samples feed the finest frame; a finished bucket feeds the next coarser one, so
// adding a sample costs O(fields) and memory never grows with history.

export const RRD_POINTS = 70;
/** Step of each time frame in seconds, as PVE's RRAs (decade exists for nodes since PVE 9). */
export const RRD_FRAMES = {
  hour: 60,
  day: 1800,
  week: 10800,
  month: 43200,
  year: 604800,
  decade: 4838400,
} as const;
export type RrdFrame = keyof typeof RRD_FRAMES;
const STEPS = Object.values(RRD_FRAMES);

interface Level {
  step: number;
  /** Lazily allocated: coarse frames stay empty until simulated time reaches them. */
  avg?: Float32Array;
  max?: Float32Array;
  bucketOf?: Float64Array;
  acc: Float64Array;
  accMax: Float64Array;
  accN: number;
  accBucket: number;
  /** Scratch for the finished bucket handed to the next frame (no allocation per flush). */
  outAvg: Float64Array;
  outMax: Float64Array;
}

export class Rrd {
  private levels: Level[];

  constructor(private readonly fields: number) {
    this.levels = STEPS.map((step) => ({
      step,
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
    if (!lv.avg) {
      lv.avg = new Float32Array(RRD_POINTS * this.fields);
      lv.max = new Float32Array(RRD_POINTS * this.fields);
      lv.bucketOf = new Float64Array(RRD_POINTS).fill(-1);
    }
    const slot = lv.accBucket % RRD_POINTS;
    const avg = lv.outAvg;
    const max = lv.outMax;
    for (let f = 0; f < this.fields; f++) {
      avg[f] = lv.acc[f]! / lv.accN;
      max[f] = lv.accMax[f]!;
      lv.avg[slot * this.fields + f] = avg[f]!;
      lv.max![slot * this.fields + f] = max[f]!;
    }
    lv.bucketOf![slot] = lv.accBucket;
    const start = lv.accBucket * lv.step;
    lv.acc.fill(0);
    lv.accMax.fill(-Infinity);
    lv.accN = 0;
    this.feed(li + 1, start, avg, max);
  }

  /**
   * The 70 points of a frame ending with the bucket that holds `nowSec`; a point without data is
   * `values: null` (PVE returns only its time). The running bucket is read from its accumulator.
   */
  fetch(
    frame: RrdFrame,
    cf: 'AVERAGE' | 'MAX',
    nowSec: number,
  ): Array<{ time: number; values: number[] | null }> {
    const li = STEPS.indexOf(RRD_FRAMES[frame]);
    const lv = this.levels[li]!;
    const last = Math.floor(nowSec / lv.step);
    const out: Array<{ time: number; values: number[] | null }> = [];
    for (let b = last - RRD_POINTS + 1; b <= last; b++) {
      let values: number[] | null = null;
      if (b === lv.accBucket && lv.accN > 0) {
        values = Array.from(cf === 'MAX' ? lv.accMax : lv.acc.map((v) => v / lv.accN));
      } else if (lv.bucketOf && b >= 0 && lv.bucketOf[b % RRD_POINTS] === b) {
        const src = (cf === 'MAX' ? lv.max : lv.avg)!;
        const at = (b % RRD_POINTS) * this.fields;
        values = Array.from(src.subarray(at, at + this.fields));
      }
      out.push({ time: b * lv.step, values });
    }
    return out;
  }
}
