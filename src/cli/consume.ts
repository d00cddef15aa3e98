// `fjord consume TOPIC`: kafka-console-consumer with kcat-style format strings. Reads the chosen partitions
// with manual assignment, or with --group whatever the group assigns; stops after -n records, at the end of
// the log with -e (each partition's end is taken when the command starts, or when a group member first gets
// the partition, so a busy topic still ends), or on Ctrl-C.
import { Admin } from '../client/admin/admin.js';
import { Consumer, type ConsumerRecord } from '../client/consumer/consumer.js';
import {
  BROKERS_FLAG,
  CliError,
  JSON_FLAG,
  UsageError,
  clientOptions,
  flag,
  intArg,
  runCommand,
  str,
  type CommandSpec,
} from './args.js';

export const consumeSpec: CommandSpec = {
  name: 'consume',
  usage: 'consume TOPIC [options]',
  summary: 'Print records of TOPIC, one per line.',
  flags: [
    BROKERS_FLAG,
    {
      name: 'from-beginning',
      type: 'boolean',
      description: 'start at the earliest offset (same as --offset beginning)',
    },
    {
      name: 'offset',
      short: 'o',
      type: 'string',
      arg: 'N|beginning|end',
      description: 'where to start in each partition',
      default: 'end',
    },
    {
      name: 'from-time',
      type: 'string',
      arg: 'TIME',
      description: 'start at the first record at or after TIME (ISO 8601, or ms since the epoch)',
    },
    {
      name: 'partition',
      short: 'p',
      type: 'string',
      arg: 'N',
      description: 'read only this partition (default: all)',
    },
    {
      name: 'group',
      short: 'g',
      type: 'string',
      arg: 'ID',
      description:
        'consume as a member of this consumer group, from its committed offsets (commits what is printed)',
    },
    {
      name: 'format',
      short: 'f',
      type: 'string',
      arg: 'FORMAT',
      description: 'how to print each record (see below)',
      default: '%v',
    },
    { name: 'num', short: 'n', type: 'string', arg: 'N', description: 'exit after N records' },
    {
      name: 'exit-at-end',
      short: 'e',
      type: 'boolean',
      description: 'exit once every partition is read to its end',
    },
    {
      name: 'max-wait-ms',
      type: 'string',
      arg: 'MS',
      description: 'how long the broker may hold a fetch with no data',
      default: '500',
    },
    JSON_FLAG,
  ],
  notes: [
    'Format placeholders: %k key, %v value, %p partition, %o offset, %t timestamp (ms), %T topic,',
    '%h headers (k=v,k=v), %% a percent sign; \\n and \\t are a newline and a tab. A null key or value',
    'prints as nothing. Each record is printed followed by a newline. With --json each record is one',
    'JSON object per line (topic, partition, offset, timestamp, key, value, headers).',
  ].join('\n'),
};

const text = (b: Buffer | null): string => (b === null ? '' : b.toString('utf8'));

/** Renders one record by a format string; exported for tests. */
export function formatRecord(format: string, r: ConsumerRecord): string {
  return format.replace(/%[kvpotThx%]|\\[nt\\]/g, (token) => {
    switch (token) {
      case '%k':
        return text(r.key);
      case '%v':
        return text(r.value);
      case '%p':
        return String(r.partition);
      case '%o':
        return String(r.offset);
      case '%t':
        return String(r.timestamp);
      case '%T':
        return r.topic;
      case '%h':
        return r.headers.map((h) => `${h.key}=${text(h.value)}`).join(',');
      case '%%':
        return '%';
      case '\\n':
        return '\n';
      case '\\t':
        return '\t';
      case '\\\\':
        return '\\';
      default:
        return token;
    }
  });
}

function parseTime(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms))
    throw new UsageError(
      `--from-time must be ISO 8601 (2024-05-01T12:00:00Z) or ms since the epoch, got '${raw}'`,
    );
  return ms;
}

export async function consume(args: string[]): Promise<number> {
  return runCommand(consumeSpec, args, async (p) => {
    const [topic, ...extra] = p.positionals;
    if (topic === undefined) throw new UsageError('name the topic to consume');
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const groupId = str(p, 'group');
    if (groupId !== undefined) {
      // As kafka-console-consumer: a group member reads what the group assigns it, from the group's offsets.
      for (const clash of ['partition', 'from-time'])
        if (str(p, clash) !== undefined) throw new UsageError(`--${clash} cannot be combined with --group`);
      if (!['end', 'beginning', 'earliest', 'latest'].includes(str(p, 'offset')!))
        throw new UsageError(
          '--offset N cannot be combined with --group; move the group with `fjord group reset-offsets`',
        );
    }
    const limit = intArg(p, 'num', 1);
    const onlyPartition = intArg(p, 'partition');
    const maxWaitMs = intArg(p, 'max-wait-ms') ?? 500;
    const fromTime = str(p, 'from-time') !== undefined ? parseTime(str(p, 'from-time')!) : undefined;
    let start: 'beginning' | 'end' | number = flag(p, 'from-beginning') ? 'beginning' : 'end';
    const offsetRaw = str(p, 'offset')!;
    if (!flag(p, 'from-beginning') && offsetRaw !== 'end') {
      if (offsetRaw === 'beginning' || offsetRaw === 'earliest') start = 'beginning';
      else if (/^\d+$/.test(offsetRaw)) start = Number(offsetRaw);
      else if (offsetRaw !== 'latest')
        throw new UsageError(`--offset must be a number, beginning or end, got '${offsetRaw}'`);
    }
    const format = str(p, 'format')!;
    const json = flag(p, 'json');

    const options = clientOptions(str(p, 'brokers')!);
    const consumer = new Consumer({
      ...options,
      autoOffsetReset: start === 'beginning' ? 'earliest' : 'latest',
      maxWaitMs,
      // Commits name only printed records (a poll may return more than -n wants), so no auto commit.
      ...(groupId !== undefined ? { groupId, enableAutoCommit: false } : {}),
    });
    const admin = new Admin(options);
    const stop = (): void => void consumer.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // `fjord consume t | head -3`: once the reader is gone there is no one to print for.
    let readerGone = false;
    const onStdoutError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EPIPE') readerGone = true;
      stop();
    };
    process.stdout.on('error', onStdoutError);
    try {
      const info = await consumer.cluster
        .topicMetadata(topic, Date.now() + 10_000)
        .catch((error: unknown) => {
          if (
            (error as { name?: string }).name === 'UNKNOWN_TOPIC_OR_PARTITION' ||
            (error as { code?: string }).code === 'METADATA_UNAVAILABLE'
          )
            throw new CliError(`topic '${topic}' does not exist; list topics with \`fjord topic list\``);
          throw error;
        });
      let partitions = info.partitions.map((x) => x.partition).sort((a, b) => a - b);
      if (onlyPartition !== undefined) {
        if (!partitions.includes(onlyPartition))
          throw new CliError(
            `topic '${topic}' has no partition ${onlyPartition} (it has ${partitions.length})`,
          );
        partitions = [onlyPartition];
      }
      const ends = new Map<number, number>();
      const exitAtEnd = flag(p, 'exit-at-end');
      if (groupId === undefined) {
        consumer.assign(
          partitions.map((partition) => ({
            topic,
            partition,
            ...(typeof start === 'number' ? { offset: start } : {}),
          })),
        );
        if (fromTime !== undefined) await consumer.seekToTimestamp(topic, fromTime);
        if (exitAtEnd)
          for (const o of await admin.listOffsets(topic, 'latest', partitions))
            ends.set(o.partition, o.offset);
      } else {
        consumer.subscribe([topic]);
      }
      // A group member learns its partitions only after joining: their ends are taken when first seen.
      const learnEnds = async (): Promise<void> => {
        const unknown = consumer
          .assignment()
          .map((a) => a.partition)
          .filter((x) => !ends.has(x));
        if (unknown.length === 0) return;
        for (const o of await admin.listOffsets(topic, 'latest', unknown)) ends.set(o.partition, o.offset);
      };
      const atEnd = (): boolean => {
        const assigned = consumer.assignment();
        return (
          assigned.length > 0 &&
          assigned.every((a) => a.position !== undefined && a.position >= (ends.get(a.partition) ?? 0))
        );
      };
      const committable = new Map<number, number>();
      const commit = async (): Promise<void> => {
        if (groupId === undefined || committable.size === 0) return;
        const offsets = [...committable].map(([partition, offset]) => ({ topic, partition, offset }));
        committable.clear();
        await consumer.commit(offsets);
      };

      let printed = 0;
      const out: string[] = [];
      const done = (): boolean => (limit !== undefined && printed >= limit) || (exitAtEnd && atEnd());
      while (!done()) {
        let records: ConsumerRecord[];
        try {
          records = await consumer.poll();
        } catch (error) {
          if ((error as { code?: string }).code === 'CLIENT_CLOSED') break;
          throw error;
        }
        for (const r of records) {
          if (limit !== undefined && printed >= limit) break;
          if (exitAtEnd && r.offset >= (ends.get(r.partition) ?? Infinity)) continue;
          out.push(
            json
              ? JSON.stringify({
                  topic: r.topic,
                  partition: r.partition,
                  offset: r.offset,
                  timestamp: r.timestamp,
                  key: r.key === null ? null : text(r.key),
                  value: r.value === null ? null : text(r.value),
                  headers: r.headers.map((h) => ({
                    key: h.key,
                    value: h.value === null ? null : text(h.value),
                  })),
                })
              : formatRecord(format, r),
          );
          printed++;
          committable.set(r.partition, r.offset + 1);
        }
        if (out.length) process.stdout.write(out.splice(0).join('\n') + '\n');
        if (exitAtEnd) await learnEnds();
        await commit();
      }
      if (!json && !readerGone) console.error(`consumed ${printed} record${printed === 1 ? '' : 's'}`);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', onStdoutError);
      await consumer.close();
      await admin.close();
    }
  });
}
