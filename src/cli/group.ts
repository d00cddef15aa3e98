// `fjord group list|describe|delete|reset-offsets`: kafka-consumer-groups. reset-offsets only shows the plan
// unless --execute is given, as Kafka's tool does.
import { Admin, type GroupTopicOffsets } from '../client/admin/admin.js';
import { readConsumerProtocolAssignment } from '../protocol/messages/consumer-protocol-assignment.js';
import { Reader } from '../protocol/primitives/reader.js';
import {
  BROKERS_FLAG,
  CliError,
  JSON_FLAG,
  UsageError,
  flag,
  intArg,
  list,
  printJson,
  runCommand,
  runVerbs,
  str,
  table,
  type CommandSpec,
  type Parsed,
  withAdmin,
} from './args.js';

function groupArg(p: Parsed): string {
  const [group, ...extra] = p.positionals;
  if (group === undefined) throw new UsageError('name the group');
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return group;
}

const listSpec: CommandSpec = {
  name: 'group list',
  usage: 'group list [options]',
  summary: 'List consumer groups with their state.',
  flags: [BROKERS_FLAG, JSON_FLAG],
};
const describeSpec: CommandSpec = {
  name: 'group describe',
  usage: 'group describe GROUP [options]',
  summary: "Show a group's state, members, and per partition its committed offset, log end offset and lag.",
  flags: [BROKERS_FLAG, JSON_FLAG],
};
const deleteSpec: CommandSpec = {
  name: 'group delete',
  usage: 'group delete GROUP... [options]',
  summary: 'Delete empty groups and their committed offsets.',
  flags: [BROKERS_FLAG, JSON_FLAG],
};
const resetSpec: CommandSpec = {
  name: 'group reset-offsets',
  usage: 'group reset-offsets GROUP (--topic T | --all-topics) --to-... [--execute] [options]',
  summary: "Move a group's committed offsets (a dry run unless --execute; the group must have no members).",
  flags: [
    BROKERS_FLAG,
    {
      name: 'topic',
      short: 't',
      type: 'string',
      multiple: true,
      arg: 'TOPIC[:P,P]',
      description: 'a topic to reset, optionally only some partitions',
    },
    { name: 'all-topics', type: 'boolean', description: 'every topic the group has offsets for' },
    { name: 'to-earliest', type: 'boolean', description: "to each partition's log start offset" },
    { name: 'to-latest', type: 'boolean', description: "to each partition's log end offset" },
    {
      name: 'to-offset',
      type: 'string',
      arg: 'N',
      description: "to offset N (kept within each partition's log start and end)",
    },
    {
      name: 'to-datetime',
      type: 'string',
      arg: 'TIME',
      description: 'to the first offset at or after TIME (ISO 8601 or ms since the epoch)',
    },
    { name: 'dry-run', type: 'boolean', description: 'only show the new offsets (the default)' },
    { name: 'execute', type: 'boolean', description: 'commit the new offsets' },
    JSON_FLAG,
  ],
};

async function runList(args: string[]): Promise<number> {
  return runCommand(listSpec, args, async (p) => {
    const groups = await withAdmin(p, (admin) => admin.listGroups());
    if (flag(p, 'json')) return printJson(groups);
    if (groups.length === 0) console.log('no groups');
    else
      console.log(
        table(
          ['GROUP', 'STATE', 'PROTOCOL-TYPE'],
          groups.map((g) => [g.groupId, g.state || '-', g.protocolType || '-']),
        ),
      );
  });
}

interface LagRow {
  topic: string;
  partition: number;
  /** -1: nothing committed yet. */
  committedOffset: number;
  logEndOffset: number;
  /** -1 when unknown (nothing committed). */
  lag: number;
  /** The member the partition is assigned to, when the group is consuming. */
  memberId: string | null;
  clientId: string | null;
  host: string | null;
}

/** The partitions a member of a `consumer` group owns: its assignment is a versioned ConsumerProtocolAssignment. */
function assignedPartitions(assignment: Buffer): { topic: string; partitions: number[] }[] {
  if (assignment.length < 2) return [];
  try {
    const reader = new Reader(assignment);
    const version = reader.int16();
    return readConsumerProtocolAssignment(reader, version).assignedPartitions;
  } catch {
    // Another protocol type (connect, a custom client) encodes assignments its own way.
    return [];
  }
}

type Member = { memberId: string; clientId: string; clientHost: string; memberAssignment: Buffer };

async function lagRows(admin: Admin, group: string, members: Member[]): Promise<LagRow[]> {
  const committed = await admin.fetchOffsets(group);
  const owner = new Map<string, Member>();
  const wanted = new Map<string, Set<number>>();
  for (const t of committed)
    for (const x of t.partitions)
      if (x.offset >= 0)
        (wanted.get(t.topic) ?? wanted.set(t.topic, new Set()).get(t.topic)!).add(x.partition);
  for (const m of members) {
    for (const a of assignedPartitions(m.memberAssignment)) {
      for (const partition of a.partitions) {
        owner.set(`${a.topic}\u0000${partition}`, m);
        (wanted.get(a.topic) ?? wanted.set(a.topic, new Set()).get(a.topic)!).add(partition);
      }
    }
  }
  const rows: LagRow[] = [];
  for (const [topic, set] of wanted) {
    const partitions = [...set].sort((a, b) => a - b);
    const ends = await admin.listOffsets(topic, 'latest', partitions);
    for (const partition of partitions) {
      const end = ends.find((e) => e.partition === partition)?.offset ?? -1;
      const offset =
        committed.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition)?.offset ??
        -1;
      const m = owner.get(`${topic}\u0000${partition}`);
      rows.push({
        topic,
        partition,
        committedOffset: offset,
        logEndOffset: end,
        lag: end >= 0 && offset >= 0 ? Math.max(0, end - offset) : -1,
        memberId: m?.memberId ?? null,
        clientId: m?.clientId ?? null,
        host: m?.clientHost ?? null,
      });
    }
  }
  return rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

async function runDescribe(args: string[]): Promise<number> {
  return runCommand(describeSpec, args, async (p) => {
    const group = groupArg(p);
    const { description, rows } = await withAdmin(p, async (admin) => {
      const [description] = await admin.describeGroups([group]);
      const consumer = description?.protocolType === 'consumer' ? description.members : [];
      return { description, rows: await lagRows(admin, group, consumer) };
    });
    const state = description?.state ?? 'Dead';
    if ((state === 'Dead' || state === '') && rows.length === 0)
      throw new CliError(
        `group '${group}' does not exist (no members, no committed offsets); list groups with \`fjord group list\``,
      );
    const members = (description?.members ?? []).map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
    }));
    if (flag(p, 'json'))
      return printJson({
        group,
        state,
        protocolType: description?.protocolType ?? '',
        protocol: description?.protocol ?? '',
        members,
        offsets: rows,
        totalLag: rows.reduce((s, r) => s + Math.max(0, r.lag), 0),
      });
    console.log(
      `Group: ${group}  state: ${state}  members: ${members.length}${description?.protocol ? `  assignor: ${description.protocol}` : ''}`,
    );
    if (rows.length)
      console.log(
        table(
          [
            'TOPIC',
            'PARTITION',
            'CURRENT-OFFSET',
            'LOG-END-OFFSET',
            'LAG',
            'CONSUMER-ID',
            'HOST',
            'CLIENT-ID',
          ],
          rows.map((r) => [
            r.topic,
            r.partition,
            r.committedOffset < 0 ? '-' : r.committedOffset,
            r.logEndOffset,
            r.lag < 0 ? '-' : r.lag,
            r.memberId ?? '-',
            r.host ?? '-',
            r.clientId ?? '-',
          ]),
        ),
      );
    else console.log('no committed offsets and no assigned partitions');
    if (members.length) {
      console.log('');
      console.log(
        table(
          ['MEMBER-ID', 'CLIENT-ID', 'HOST'],
          members.map((m) => [m.memberId, m.clientId, m.clientHost]),
        ),
      );
    }
  });
}

async function runDelete(args: string[]): Promise<number> {
  return runCommand(deleteSpec, args, async (p) => {
    if (p.positionals.length === 0) throw new UsageError('name the group(s) to delete');
    await withAdmin(p, (admin) => admin.deleteGroups(p.positionals));
    if (flag(p, 'json')) printJson({ deleted: p.positionals });
    else for (const g of p.positionals) console.log(`deleted group ${g}`);
  });
}

function parseTime(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms))
    throw new UsageError(`--to-datetime must be ISO 8601 or ms since the epoch, got '${raw}'`);
  return ms;
}

async function runReset(args: string[]): Promise<number> {
  return runCommand(resetSpec, args, async (p) => {
    const group = groupArg(p);
    const targets = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime'].filter(
      (t) => p.values[t] !== undefined,
    );
    if (targets.length !== 1)
      throw new UsageError(
        'give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime TIME',
      );
    if (flag(p, 'execute') && flag(p, 'dry-run'))
      throw new UsageError('--dry-run and --execute exclude each other');
    const topicArgs = list(p, 'topic');
    if (topicArgs.length > 0 === flag(p, 'all-topics'))
      throw new UsageError('give --topic TOPIC (repeatable) or --all-topics');
    const toOffset = intArg(p, 'to-offset');
    const toTime = str(p, 'to-datetime') !== undefined ? parseTime(str(p, 'to-datetime')!) : undefined;
    const execute = flag(p, 'execute');

    const plan = await withAdmin(p, async (admin) => {
      const wanted: { topic: string; partitions?: number[] }[] = [];
      if (flag(p, 'all-topics')) {
        for (const t of await admin.fetchOffsets(group))
          if (t.partitions.length)
            wanted.push({ topic: t.topic, partitions: t.partitions.map((x) => x.partition) });
        if (wanted.length === 0)
          throw new CliError(`group '${group}' has no committed offsets; name topics with --topic`);
      } else {
        for (const arg of topicArgs) {
          const [topic, parts] = arg.split(':');
          const partitions = parts?.split(',').map((x) => {
            if (!/^\d+$/.test(x)) throw new UsageError(`bad partition '${x}' in --topic ${arg}`);
            return Number(x);
          });
          wanted.push({ topic: topic!, ...(partitions ? { partitions } : {}) });
        }
      }
      const current = await admin.fetchOffsets(group);
      const out: { topic: string; partition: number; currentOffset: number; newOffset: number }[] = [];
      for (const w of wanted) {
        const info = (await admin.describeTopics([w.topic]))[0];
        const partitions = w.partitions ?? info!.partitions.map((x) => x.partition).sort((a, b) => a - b);
        const [earliest, latest] = await Promise.all([
          admin.listOffsets(w.topic, 'earliest', partitions),
          admin.listOffsets(w.topic, 'latest', partitions),
        ]);
        const byTime = toTime !== undefined ? await admin.listOffsets(w.topic, toTime, partitions) : [];
        for (const partition of partitions) {
          const lo = earliest.find((o) => o.partition === partition)?.offset ?? 0;
          const hi = latest.find((o) => o.partition === partition)?.offset ?? 0;
          let next: number;
          if (flag(p, 'to-earliest')) next = lo;
          else if (flag(p, 'to-latest')) next = hi;
          else if (toOffset !== undefined) next = Math.min(Math.max(toOffset, lo), hi);
          else {
            const found = byTime.find((o) => o.partition === partition)?.offset ?? -1;
            next = found >= 0 ? found : hi;
          }
          const cur =
            current.find((t) => t.topic === w.topic)?.partitions.find((x) => x.partition === partition)
              ?.offset ?? -1;
          out.push({ topic: w.topic, partition, currentOffset: cur, newOffset: next });
        }
      }
      if (execute) {
        const topics = new Map<string, GroupTopicOffsets>();
        for (const r of out) {
          const t = topics.get(r.topic) ?? { topic: r.topic, partitions: [] };
          t.partitions.push({ partition: r.partition, offset: r.newOffset });
          topics.set(r.topic, t);
        }
        await admin.alterOffsets(group, [...topics.values()]);
      }
      return out;
    });
    if (flag(p, 'json')) return printJson({ group, executed: execute, offsets: plan });
    console.log(
      table(
        ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
        plan.map((r) => [r.topic, r.partition, r.currentOffset < 0 ? '-' : r.currentOffset, r.newOffset]),
      ),
    );
    console.error(
      execute
        ? `reset offsets of group ${group}`
        : 'dry run: nothing changed; add --execute to commit these offsets',
    );
  });
}

export async function group(args: string[]): Promise<number> {
  return runVerbs(
    'group',
    'List, describe and delete consumer groups, and reset their offsets.',
    {
      list: { spec: listSpec, run: runList },
      describe: { spec: describeSpec, run: runDescribe },
      delete: { spec: deleteSpec, run: runDelete },
      'reset-offsets': { spec: resetSpec, run: runReset },
    },
    args,
  );
}
