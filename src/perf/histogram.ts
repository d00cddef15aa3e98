// A log-linear latency histogram in the manner of HdrHistogram: values are integers (microseconds here),
// recorded exactly below 2048 and with 1024 sub-buckets per power of two above, so every recorded value is
// reported to within 1/1024 (~0.1%, three significant digits) of itself. Values from 2^31 up are clamped.
//
// Bucket layout: index v for v < 2048; above, with m = floor(log2 v), shift = m - 10 (>= 1), the index is
// 2048 + (shift - 1) * 1024 + ((v >> shift) - 1024). The counts array is dense (about 23 k slots); the
// wire form for postMessage and JSON is sparse [index, count] pairs.

const SUB_BUCKET_BITS = 11;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const HALF = SUB_BUCKETS >> 1;
const MAX_VALUE = 2 ** 31 - 1;
const SLOTS = SUB_BUCKETS + (31 - SUB_BUCKET_BITS + 1) * HALF;

/** The percentiles every summary reports. */
export const REPORTED_PERCENTILES = [50, 90, 99, 99.9, 99.99] as const;

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

/** Sparse serialisable form: [bucket index, count] pairs plus exact min, max and sum. */
export interface HistogramData {
  buckets: [number, number][];
  min: number;
  max: number;
  sum: number;
}

function indexOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const shift = 31 - Math.clz32(value) - (SUB_BUCKET_BITS - 1);
  return SUB_BUCKETS + (shift - 1) * HALF + ((value >>> shift) - HALF);
}

/** The highest value that lands in bucket `index` (what HdrHistogram reports for a percentile). */
function highestIn(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const k = index - SUB_BUCKETS;
  const shift = Math.floor(k / HALF) + 1;
  const sub = (k % HALF) + HALF;
  return sub * 2 ** shift + 2 ** shift - 1;
}

export class Histogram {
  #counts = new Float64Array(SLOTS);
  #total = 0;
  #min = Infinity;
  #max = 0;
  #sum = 0;

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#total === 0 ? 0 : this.#max;
  }

  get min(): number {
    return this.#total === 0 ? 0 : this.#min;
  }

  get mean(): number {
    return this.#total === 0 ? 0 : this.#sum / this.#total;
  }

  /** Records `value` (rounded, clamped to [0, 2^31)) `count` times. */
  record(value: number, count = 1): void {
    const v = value <= 0 ? 0 : value >= MAX_VALUE ? MAX_VALUE : Math.round(value);
    this.#counts[indexOf(v)]! += count;
    this.#total += count;
    this.#sum += v * count;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /**
   * Coordinated-omission correction after the fact (HdrHistogram's recordValueWithExpectedInterval): a
   * value longer than the expected interval between samples stands for the samples that could not be taken
   * while it stalled, so it also records value - interval, value - 2 * interval, ... down to the interval.
   * Prefer measuring from the intended send time where the schedule is known; this is for when it is not.
   */
  recordCorrected(value: number, expectedInterval: number): void {
    this.record(value);
    if (expectedInterval <= 0) return;
    for (let missing = value - expectedInterval; missing >= expectedInterval; missing -= expectedInterval) {
      this.record(missing);
    }
  }

  /** The smallest recorded value (to bucket precision) at or below which `percentile`% of values lie. */
  percentile(percentile: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, percentile)) / 100) * this.#total));
    let seen = 0;
    for (let i = 0; i < SLOTS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(highestIn(i), this.#max);
    }
    return this.#max;
  }

  /** Adds every count of `other` (or of its serialised form) into this one. */
  merge(other: Histogram | HistogramData): void {
    const data = other instanceof Histogram ? other.toData() : other;
    for (const [index, count] of data.buckets) {
      this.#counts[index]! += count;
      this.#total += count;
    }
    if (data.buckets.length > 0) {
      this.#sum += data.sum;
      if (data.min < this.#min) this.#min = data.min;
      if (data.max > this.#max) this.#max = data.max;
    }
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#min = Infinity;
    this.#max = 0;
    this.#sum = 0;
  }

  toData(): HistogramData {
    const buckets: [number, number][] = [];
    if (this.#total > 0) {
      for (let i = 0; i < SLOTS; i++) {
        const c = this.#counts[i]!;
        if (c !== 0) buckets.push([i, c]);
      }
    }
    return { buckets, min: this.min, max: this.max, sum: this.#sum };
  }

  static fromData(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }

  summary(): LatencySummary {
    return {
      count: this.#total,
      min: this.min,
      mean: this.mean,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      p9999: this.percentile(99.99),
      max: this.max,
    };
  }

  /**
   * Points for a percentile plot: (percentile, value) at 1 - 10^(-k/steps) for k = 0.. until every value is
   * covered, i.e. evenly spaced on the usual "1 / (1 - p)" log axis, ending at 100 (the max).
   */
  percentileCurve(stepsPerDecade = 10): { percentile: number; value: number }[] {
    const points: { percentile: number; value: number }[] = [];
    if (this.#total === 0) return points;
    const lastDecade = Math.max(1, Math.ceil(Math.log10(this.#total)));
    for (let k = 0; k <= lastDecade * stepsPerDecade; k++) {
      const p = 100 * (1 - 10 ** (-k / stepsPerDecade));
      points.push({ percentile: p, value: this.percentile(p) });
    }
    points.push({ percentile: 100, value: this.max });
    return points;
  }
}
