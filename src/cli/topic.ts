// `fjord topic create|list|describe|delete|alter-config`: kafka-topics with rpk's shorter spelling.
import {
  BROKERS_FLAG,
  JSON_FLAG,
  UsageError,
  flag,
  intArg,
  keyValues,
  list,
  printJson,
  runCommand,
  runVerbs,
  table,
  type CommandSpec,
  type Parsed,
  withAdmin,
} from './args.js';

function topicsArg(parsed: Parsed, what: string): string[] {
  if (parsed.positionals.length === 0) throw new UsageError(`name the topic(s) to ${what}`);
  return parsed.positionals;
}

const create: CommandSpec = {
  name: 'topic create',
  usage: 'topic create TOPIC... [options]',
  summary: 'Create topics.',
  flags: [
    BROKERS_FLAG,
    {
      name: 'partitions',
      short: 'p',
      type: 'string',
      arg: 'N',
      description: "partition count (default: the broker's num.partitions)",
    },
    {
      name: 'replication-factor',
      short: 'r',
      type: 'string',
      arg: 'N',
      description: "replicas per partition (default: the broker's default.replication.factor)",
    },
    {
      name: 'config',
      short: 'c',
      type: 'string',
      multiple: true,
      arg: 'key=value',
      description: 'a topic config, e.g. retention.ms=60000',
    },
    { name: 'if-not-exists', type: 'boolean', description: 'succeed quietly when the topic already exists' },
    JSON_FLAG,
  ],
};

const listSpec: CommandSpec = {
  name: 'topic list',
  usage: 'topic list [options]',
  summary: 'List topics with their partition counts.',
  flags: [
    BROKERS_FLAG,
    {
      name: 'internal',
      short: 'i',
      type: 'boolean',
      description: 'include internal topics (__consumer_offsets)',
    },
    JSON_FLAG,
  ],
};

const describe: CommandSpec = {
  name: 'topic describe',
  usage: 'topic describe TOPIC... [options]',
  summary: 'Show partitions (leader, replicas, ISR, offsets) and non-default configs of topics.',
  flags: [
    BROKERS_FLAG,
    { name: 'all-configs', short: 'a', type: 'boolean', description: 'show every config, defaults included' },
    JSON_FLAG,
  ],
};

const del: CommandSpec = {
  name: 'topic delete',
  usage: 'topic delete TOPIC... [options]',
  summary: 'Delete topics and their data.',
  flags: [BROKERS_FLAG, JSON_FLAG],
};

const alterConfig: CommandSpec = {
  name: 'topic alter-config',
  usage: 'topic alter-config TOPIC... --set key=value | --delete key [options]',
  summary: 'Change topic configs (only the named keys; others keep their values).',
  flags: [
    BROKERS_FLAG,
    {
      name: 'set',
      short: 's',
      type: 'string',
      multiple: true,
      arg: 'key=value',
      description: 'set a config',
    },
    {
      name: 'delete',
      short: 'd',
      type: 'string',
      multiple: true,
      arg: 'key',
      description: 'remove a config override (back to the default)',
    },
    JSON_FLAG,
  ],
};

export async function topicCreate(args: string[]): Promise<number> {
  return runCommand(create, args, async (p) => {
    const topics = topicsArg(p, 'create');
    const numPartitions = intArg(p, 'partitions', 1) ?? -1;
    const replicationFactor = intArg(p, 'replication-factor', 1) ?? -1;
    const configs = Object.fromEntries(keyValues(list(p, 'config'), '--config'));
    const created: string[] = [];
    const existed: string[] = [];
    await withAdmin(p, async (admin) => {
      for (const topic of topics) {
        try {
          await admin.createTopics([{ topic, numPartitions, replicationFactor, configs }]);
          created.push(topic);
        } catch (error) {
          if (flag(p, 'if-not-exists') && (error as { name?: string }).name === 'TOPIC_ALREADY_EXISTS')
            existed.push(topic);
          else throw error;
        }
      }
    });
    if (flag(p, 'json')) printJson({ created, existed });
    else {
      for (const t of created) console.log(`created topic ${t}`);
      for (const t of existed) console.log(`topic ${t} already exists`);
    }
  });
}

async function runList(args: string[]): Promise<number> {
  return runCommand(listSpec, args, async (p) => {
    const rows = await withAdmin(p, async (admin) => {
      const names = await admin.listTopics({ includeInternal: flag(p, 'internal') });
      const infos = names.length ? await admin.describeTopics(names) : [];
      return infos.map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicas: t.partitions[0]?.replicas.length ?? 0,
        internal: t.isInternal,
      }));
    });
    if (flag(p, 'json')) printJson(rows);
    else if (rows.length === 0) console.log('no topics');
    else
      console.log(
        table(
          ['NAME', 'PARTITIONS', 'REPLICAS'],
          rows.map((r) => [r.name, r.partitions, r.replicas]),
        ),
      );
  });
}

async function runDescribe(args: string[]): Promise<number> {
  return runCommand(describe, args, async (p) => {
    const topics = topicsArg(p, 'describe');
    const all = flag(p, 'all-configs');
    const out = await withAdmin(p, async (admin) => {
      const infos = await admin.describeTopics(topics);
      const result = [];
      for (const info of infos) {
        const ids = info.partitions.map((x) => x.partition);
        const [start, end] = ids.length
          ? await Promise.all([
              admin.listOffsets(info.name, 'earliest', ids),
              admin.listOffsets(info.name, 'latest', ids),
            ])
          : [[], []];
        const [configs] = await admin.describeConfigs([{ type: 'topic', name: info.name }]);
        result.push({
          name: info.name,
          topicId: info.topicId,
          internal: info.isInternal,
          partitions: info.partitions
            .slice()
            .sort((a, b) => a.partition - b.partition)
            .map((x) => ({
              partition: x.partition,
              leader: x.leader,
              leaderEpoch: x.leaderEpoch,
              replicas: x.replicas,
              isr: x.isr,
              logStartOffset: start.find((o) => o.partition === x.partition)?.offset ?? -1,
              highWatermark: end.find((o) => o.partition === x.partition)?.offset ?? -1,
            })),
          configs: Object.fromEntries(
            (configs?.configs ?? [])
              .filter((c) => all || (!c.isDefault && c.source !== 'default' && c.source !== 'static-broker'))
              .map((c) => [c.name, c.isSensitive ? '(sensitive)' : c.value]),
          ),
        });
      }
      return result;
    });
    if (flag(p, 'json')) return printJson(out);
    for (const t of out) {
      console.log(
        `Topic: ${t.name}  id: ${t.topicId}  partitions: ${t.partitions.length}  replication: ${t.partitions[0]?.replicas.length ?? 0}`,
      );
      const cfg = Object.entries(t.configs);
      console.log(
        `Configs: ${cfg.length ? cfg.map(([k, v]) => `${k}=${v ?? ''}`).join(', ') : '(all defaults)'}`,
      );
      console.log(
        table(
          ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'LOG-START', 'HIGH-WATERMARK'],
          t.partitions.map((x) => [
            x.partition,
            x.leader,
            x.leaderEpoch,
            x.replicas.join(','),
            x.isr.join(','),
            x.logStartOffset,
            x.highWatermark,
          ]),
        ),
      );
      if (t !== out[out.length - 1]) console.log('');
    }
  });
}

async function runDelete(args: string[]): Promise<number> {
  return runCommand(del, args, async (p) => {
    const topics = topicsArg(p, 'delete');
    await withAdmin(p, (admin) => admin.deleteTopics(topics));
    if (flag(p, 'json')) printJson({ deleted: topics });
    else for (const t of topics) console.log(`deleted topic ${t}`);
  });
}

async function runAlterConfig(args: string[]): Promise<number> {
  return runCommand(alterConfig, args, async (p) => {
    const topics = topicsArg(p, 'change');
    const ops = [
      ...keyValues(list(p, 'set'), '--set').map(([name, value]) => ({ name, op: 'set' as const, value })),
      ...list(p, 'delete').map((name) => ({ name, op: 'delete' as const })),
    ];
    if (ops.length === 0) throw new UsageError('nothing to change: give --set key=value or --delete key');
    await withAdmin(p, (admin) =>
      admin.incrementalAlterConfigs(topics.map((name) => ({ type: 'topic', name, configs: ops }))),
    );
    if (flag(p, 'json')) printJson({ altered: topics, operations: ops });
    else
      for (const t of topics)
        console.log(
          `altered configs of topic ${t}: ${ops.map((o) => (o.op === 'set' ? `${o.name}=${o.value}` : `-${o.name}`)).join(', ')}`,
        );
  });
}

export async function topic(args: string[]): Promise<number> {
  return runVerbs(
    'topic',
    'Create, list, describe, delete topics and change their configs.',
    {
      create: { spec: create, run: topicCreate },
      list: { spec: listSpec, run: runList },
      describe: { spec: describe, run: runDescribe },
      delete: { spec: del, run: runDelete },
      'alter-config': { spec: alterConfig, run: runAlterConfig },
    },
    args,
  );
}
