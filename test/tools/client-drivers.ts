// One interface over the four real clients the broker is tested with, so every client runs the same
// scenarios (test/tools/client-scenarios.ts). A driver runs a list of operations; the Python drivers run the
// whole list in one interpreter, which keeps the suite fast.
//
// What a client can express differs, and the scenarios ask each driver (`can`):
// - kcat sets headers per invocation (-H), not per record, and with -Z an empty value means null;
// - kafka-python and kafkajs refuse null header values, and confluent-kafka 1.7.0 drops a reference to None
//   for each null header value it reads (the interpreter aborts with "none_dealloc" after a few hundred);
// - librdkafka (kcat, confluent-kafka) sends lz4 uncompressed unless the broker serves FindCoordinator v0
//   (its KLZ4 feature flag dates from Kafka 0.8.2, so it is keyed on that API);
// - kcat does not report the offsets it was given, so its produce acks are empty.
import type { Codec, TextRecord } from './broker-harness.js';
import { run, runPython } from './broker-harness.js';
import { kafkajsConsume, kafkajsProduce } from './kafkajs-client.js';

export interface ProduceOp {
  op: 'produce';
  topic: string;
  records: TextRecord[];
  codec?: Codec;
  /** How long the client may wait to fill a batch (records sent together land in one batch). */
  lingerMs?: number;
}

export interface ConsumeOp {
  op: 'consume';
  topic: string;
  partitions: number[];
  /** The first offset to read (the same for every partition). */
  offset: number;
  /** Stop after this many records. */
  count: number;
  timeoutMs?: number;
}

export type ClientOp = ProduceOp | ConsumeOp;
export type ClientResult = { acks: { partition: number; offset: number }[] } | { records: TextRecord[] };

export interface ClientDriver {
  name: string;
  can: {
    perRecordHeaders: boolean;
    nullHeaderValues: boolean;
    emptyValues: boolean;
    reportsOffsets: boolean;
    lz4NeedsFindCoordinator: boolean;
  };
  run(bootstrap: string, ops: ClientOp[]): Promise<ClientResult[]>;
}

export const kafkajsDriver: ClientDriver = {
  name: 'kafkajs',
  can: {
    perRecordHeaders: true,
    nullHeaderValues: false,
    emptyValues: true,
    reportsOffsets: true,
    lz4NeedsFindCoordinator: false,
  },
  async run(bootstrap, ops) {
    const results: ClientResult[] = [];
    for (const op of ops) {
      if (op.op === 'produce') {
        const { acks } = await kafkajsProduce(
          bootstrap,
          op.topic,
          op.records,
          op.codec ? { codec: op.codec } : {},
        );
        results.push({ acks });
      } else {
        const records = await kafkajsConsume(bootstrap, op.topic, op.partitions, op.offset, op.count, {
          timeoutMs: op.timeoutMs ?? 30_000,
        });
        results.push({ records });
      }
    }
    return results;
  },
};

const KEY_DELIMITER = '\u0001';

/** kcat: one `kcat -P` per run of records that share a partition and headers; `kcat -C -J` to read. */
export const kcatDriver: ClientDriver = {
  name: 'kcat',
  can: {
    perRecordHeaders: false,
    nullHeaderValues: true,
    emptyValues: false,
    reportsOffsets: false,
    lz4NeedsFindCoordinator: true,
  },
  async run(bootstrap, ops) {
    const results: ClientResult[] = [];
    for (const op of ops) {
      if (op.op === 'produce') {
        const groups: TextRecord[][] = [];
        for (const r of op.records) {
          if (r.value === '') throw new Error('kcat -Z cannot send an empty (non-null) value');
          const last = groups[groups.length - 1];
          const same =
            last &&
            last[0]!.partition === r.partition &&
            JSON.stringify(last[0]!.headers) === JSON.stringify(r.headers);
          if (same) last.push(r);
          else groups.push([r]);
        }
        for (const group of groups) {
          const first = group[0]!;
          const args = ['-b', bootstrap, '-t', op.topic, '-P', '-Z', '-K', KEY_DELIMITER];
          args.push('-z', op.codec ?? 'none', '-X', `linger.ms=${op.lingerMs ?? 20}`);
          if (first.partition !== undefined) args.push('-p', String(first.partition));
          for (const [k, v] of first.headers) args.push('-H', v === null ? k : `${k}=${v}`);
          // A line without the delimiter has a null key; with -Z an empty value is null.
          const input = group
            .map((r) => (r.key === null ? '' : r.key + KEY_DELIMITER) + (r.value ?? ''))
            .join('\n');
          await run('kcat', args, { input: input + '\n', timeoutMs: 60_000 });
        }
        results.push({ acks: [] });
      } else {
        const args = ['-b', bootstrap, '-t', op.topic, '-C', '-J', '-e', '-o', String(op.offset)];
        args.push('-c', String(op.count), '-X', 'fetch.wait.max.ms=100');
        if (op.partitions.length === 1) args.push('-p', String(op.partitions[0]));
        const { stdout } = await run('kcat', args, { timeoutMs: op.timeoutMs ?? 60_000 });
        const records = stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => {
            const m = JSON.parse(line) as {
              partition: number;
              offset: number;
              key: string | null;
              payload: string | null;
              headers?: (string | null)[];
            };
            const headers: [string, string | null][] = [];
            for (let i = 0; i + 1 < (m.headers?.length ?? 0); i += 2)
              headers.push([m.headers![i]!, m.headers![i + 1]!]);
            return { partition: m.partition, offset: m.offset, key: m.key, value: m.payload, headers };
          })
          .filter((r) => op.partitions.includes(r.partition));
        results.push({ records });
      }
    }
    return results;
  },
};

function pythonDriver(name: string, script: string, librdkafka: boolean): ClientDriver {
  return {
    name,
    can: {
      perRecordHeaders: true,
      nullHeaderValues: false,
      emptyValues: true,
      reportsOffsets: true,
      lz4NeedsFindCoordinator: librdkafka,
    },
    async run(bootstrap, ops) {
      const request = {
        bootstrap,
        ops: ops.map((op) =>
          op.op === 'produce'
            ? {
                op: 'produce',
                topic: op.topic,
                records: op.records,
                codec: op.codec ?? 'none',
                linger_ms: op.lingerMs ?? 20,
                acks: -1,
              }
            : {
                op: 'consume',
                topic: op.topic,
                partitions: op.partitions,
                offset: op.offset,
                count: op.count,
                timeout_ms: op.timeoutMs ?? 30_000,
              },
        ),
      };
      return runPython<ClientResult[]>(script, request, 180_000);
    },
  };
}

export const kafkaPythonDriver = pythonDriver('kafka-python', 'kafka_python_client.py', false);
export const confluentKafkaDriver = pythonDriver('confluent-kafka', 'confluent_kafka_client.py', true);
