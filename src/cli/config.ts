// `fjord config describe|alter`: kafka-configs for topic and broker resources.
import { type ConfigOperation, type ConfigResourceType } from '../client/admin/admin.js';
import {
  BROKERS_FLAG,
  JSON_FLAG,
  UsageError,
  flag,
  keyValues,
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

const RESOURCE_FLAGS = [
  { name: 'topic', short: 't', type: 'string' as const, arg: 'NAME', description: 'a topic resource' },
  {
    name: 'broker',
    type: 'string' as const,
    arg: 'ID',
    description: "a broker resource (its node id; '' for the cluster default)",
  },
];

const describeSpec: CommandSpec = {
  name: 'config describe',
  usage: 'config describe (--topic NAME | --broker ID) [options]',
  summary: 'Show the configs of a topic or broker, with where each value comes from.',
  flags: [
    BROKERS_FLAG,
    ...RESOURCE_FLAGS,
    {
      name: 'key',
      short: 'k',
      type: 'string',
      multiple: true,
      arg: 'NAME',
      description: 'only these configs',
    },
    { name: 'overrides', type: 'boolean', description: 'only values that differ from the default' },
    JSON_FLAG,
  ],
};

const alterSpec: CommandSpec = {
  name: 'config alter',
  usage: 'config alter (--topic NAME | --broker ID) --set key=value | --delete key [options]',
  summary: 'Set or remove configs of a topic or broker (others keep their values).',
  flags: [
    BROKERS_FLAG,
    ...RESOURCE_FLAGS,
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
      description: 'remove an override',
    },
    { name: 'validate-only', type: 'boolean', description: 'check the change without applying it' },
    JSON_FLAG,
  ],
};

function resource(p: Parsed): { type: ConfigResourceType; name: string } {
  const topic = str(p, 'topic');
  const broker = str(p, 'broker');
  if ((topic === undefined) === (broker === undefined))
    throw new UsageError('give exactly one of --topic NAME or --broker ID');
  return topic !== undefined ? { type: 'topic', name: topic } : { type: 'broker', name: broker! };
}

async function runDescribe(args: string[]): Promise<number> {
  return runCommand(describeSpec, args, async (p) => {
    const res = resource(p);
    const keys = list(p, 'key');
    return withAdmin(p, async (admin) => {
      const [described] = await admin.describeConfigs([{ ...res, ...(keys.length ? { keys } : {}) }]);
      const configs = (described?.configs ?? [])
        .filter((c) => !flag(p, 'overrides') || !c.isDefault)
        .sort((a, b) => a.name.localeCompare(b.name));
      if (flag(p, 'json')) return printJson({ ...res, configs });
      console.log(`Configs of ${res.type} ${res.name === '' ? '(default)' : res.name}:`);
      console.log(
        table(
          ['NAME', 'VALUE', 'SOURCE', 'READ-ONLY'],
          configs.map((c) => [
            c.name,
            c.isSensitive ? '(sensitive)' : (c.value ?? 'null'),
            c.source,
            c.readOnly ? 'yes' : 'no',
          ]),
        ),
      );
    });
  });
}

async function runAlter(args: string[]): Promise<number> {
  return runCommand(alterSpec, args, async (p) => {
    const res = resource(p);
    const ops: ConfigOperation[] = [
      ...keyValues(list(p, 'set'), '--set').map(([name, value]) => ({ name, op: 'set' as const, value })),
      ...list(p, 'delete').map((name) => ({ name, op: 'delete' as const })),
    ];
    if (ops.length === 0) throw new UsageError('nothing to change: give --set key=value or --delete key');
    await withAdmin(p, (admin) =>
      admin.incrementalAlterConfigs([{ ...res, configs: ops }], { validateOnly: flag(p, 'validate-only') }),
    );
    const validated = flag(p, 'validate-only');
    if (flag(p, 'json')) return printJson({ ...res, operations: ops, validateOnly: validated });
    const what = ops.map((o) => (o.op === 'set' ? `${o.name}=${o.value}` : `-${o.name}`)).join(', ');
    console.log(`${validated ? 'valid (not applied)' : 'altered'}: ${res.type} ${res.name}: ${what}`);
  });
}

export async function config(args: string[]): Promise<number> {
  return runVerbs(
    'config',
    'Describe and change topic and broker configs.',
    { describe: { spec: describeSpec, run: runDescribe }, alter: { spec: alterSpec, run: runAlter } },
    args,
  );
}
