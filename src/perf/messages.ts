// Every message between the perf runner (main thread) and its load-generating workers.
import type { HistogramData } from './histogram.js';
import type { PerfOptions } from './options.js';
import type { TopicLayout } from './cluster.js';

export interface WorkerInit {
  role: 'producer' | 'consumer';
  index: number;
  options: PerfOptions;
  layout: TopicLayout;
  /** Records this worker must produce (measured, after warm-up); null = until told to stop. */
  quota: number | null;
  /** Consumers: the partitions this one reads. */
  partitions: number[];
}

/** Counts since the previous stats message from the same worker. */
export interface StatsDelta {
  records: number;
  bytes: number;
  requests: number;
  /** Kafka error name (or a client-side reason) -> records affected. */
  errors: Record<string, number>;
  /** Producers: produce latency (µs); e2e consumers: end-to-end latency (µs). */
  latency: HistogramData;
}

export type WorkerMessage =
  | { type: 'ready' }
  | {
      type: 'stats';
      role: 'producer' | 'consumer';
      index: number;
      warmup: boolean;
      delta: StatsDelta;
      at: number;
    }
  | { type: 'done'; role: 'producer' | 'consumer'; index: number }
  | { type: 'fatal'; message: string };

export type ControlMessage =
  /** Start sending at `at` (epoch ms); measurement begins `warmupMs` later. */
  | { type: 'start'; at: number }
  /** Finish: producers stop sending and await what is in flight; consumers stop fetching. */
  | { type: 'stop' };
