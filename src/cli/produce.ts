// `fjord produce TOPIC`: kafka-console-producer. One record per stdin line; with --key-separator the text
// before the first separator is the key. Records are sent without waiting for each other (the producer
// batches them), and the command waits for every acknowledgement before it exits.
import { createInterface } from 'node:readline';
import { Producer, type CompressionName } from '../client/producer/producer.js';
import {
  BROKERS_FLAG,
  JSON_FLAG,
  UsageError,
  clientOptions,
  flag,
  intArg,
  keyValues,
  list,
  printJson,
  runCommand,
  str,
  type CommandSpec,
} from './args.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const produceSpec: CommandSpec = {
  name: 'produce',
  usage: 'produce TOPIC [options] < lines',
  summary: 'Write one record per line of standard input to TOPIC.',
  flags: [
    BROKERS_FLAG,
    {
      name: 'key-separator',
      short: 'k',
      type: 'string',
      arg: 'SEP',
      description: 'split each line at the first SEP into key and value (no SEP in a line: no key)',
    },
    {
      name: 'header',
      short: 'H',
      type: 'string',
      multiple: true,
      arg: 'key=value',
      description: 'a header added to every record',
    },
    {
      name: 'compression',
      short: 'z',
      type: 'string',
      arg: 'CODEC',
      description: `compression codec: ${CODECS.join(', ')}`,
      default: 'none',
    },
    {
      name: 'partition',
      short: 'p',
      type: 'string',
      arg: 'N',
      description: 'write every record to this partition (default: by key, keyless records spread)',
    },
    {
      name: 'acks',
      type: 'string',
      arg: '0|1|all',
      description: 'acknowledgements to wait for',
      default: 'all',
    },
    {
      name: 'linger-ms',
      type: 'string',
      arg: 'MS',
      description: 'how long a batch may wait for more records',
      default: '5',
    },
    JSON_FLAG,
  ],
  notes:
    'Prints "produced N records" on stderr (with --json a summary on stdout, including each partition\'s offsets).',
};

export async function produce(args: string[]): Promise<number> {
  return runCommand(produceSpec, args, async (p) => {
    const [topic, ...extra] = p.positionals;
    if (topic === undefined) throw new UsageError('name the topic to produce to');
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const compression = str(p, 'compression') as CompressionName;
    if (!CODECS.includes(compression))
      throw new UsageError(`--compression must be one of ${CODECS.join(', ')}, got '${compression}'`);
    const acksRaw = str(p, 'acks')!;
    const acks =
      acksRaw === 'all' || acksRaw === '-1' ? -1 : acksRaw === '1' ? 1 : acksRaw === '0' ? 0 : undefined;
    if (acks === undefined) throw new UsageError(`--acks must be 0, 1 or all, got '${acksRaw}'`);
    const partition = intArg(p, 'partition');
    const lingerMs = intArg(p, 'linger-ms') ?? 5;
    const separator = str(p, 'key-separator');
    if (separator === '') throw new UsageError('--key-separator must not be empty');
    const headers = keyValues(list(p, 'header'), '--header');

    const producer = new Producer({
      ...clientOptions(str(p, 'brokers')!),
      acks,
      compression,
      lingerMs,
      // Idempotence needs acks=all; with a weaker acks the user asked for speed over exactly-once.
      idempotent: acks === -1 ? undefined : false,
      maxBlockMs: 15_000,
      deliveryTimeoutMs: 30_000,
    });
    const pending: Promise<{ partition: number; offset: number }>[] = [];
    let failure: unknown;
    try {
      await producer.connect();
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        let key: string | null = null;
        let value = line;
        if (separator !== undefined) {
          const at = line.indexOf(separator);
          if (at >= 0) {
            key = line.slice(0, at);
            value = line.slice(at + separator.length);
          }
        }
        const sent = producer.send({
          topic,
          key,
          value,
          ...(partition !== undefined ? { partition } : {}),
          ...(headers.length ? { headers } : {}),
        });
        // Remember only the first failure; the rest usually repeat it.
        sent.catch((error: unknown) => (failure ??= error));
        pending.push(sent);
        if (failure !== undefined) break;
      }
      await producer.flush();
      const results = await Promise.allSettled(pending);
      if (failure !== undefined) throw failure;
      const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const byPartition = new Map<number, { first: number; last: number; count: number }>();
      for (const r of ok) {
        const s = byPartition.get(r.partition);
        if (!s) byPartition.set(r.partition, { first: r.offset, last: r.offset, count: 1 });
        else {
          s.first = Math.min(s.first, r.offset);
          s.last = Math.max(s.last, r.offset);
          s.count++;
        }
      }
      if (flag(p, 'json')) {
        printJson({
          topic,
          records: ok.length,
          partitions: [...byPartition]
            .sort((a, b) => a[0] - b[0])
            .map(([part, s]) => ({ partition: part, ...s })),
        });
      } else console.error(`produced ${ok.length} record${ok.length === 1 ? '' : 's'} to ${topic}`);
    } finally {
      await producer.close().catch(() => undefined);
    }
  });
}
