// Protocol code generator: `npm run gen:protocol` (= tsx src/protocol/codegen/main.ts [outDir] [specDir]).
//
// Reads Kafka's message specs from <repo>/../shared/kafka-protocol (message/ and internal/) and writes, under
// outDir (default src/protocol): messages/<api>.ts (request + response of one API), messages/<data>.ts for
// the data formats in message/, messages/common.ts, messages/schema.ts, messages/index.ts, internal/*.ts and
// api-keys.ts. Output is deterministic: the regeneration test diffs it against the committed files.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMON_SOURCE } from './common-template.js';
import { HEADER, emitFile, kebabCase, scalarDefault } from './emit.js';
import { loadSpecs, type MessageModel, type Range } from './spec.js';

function hasRecords(msg: MessageModel): boolean {
  const seen = new Set<string>();
  const visit = (name: string): boolean => {
    if (seen.has(name)) return false;
    seen.add(name);
    const s = name === msg.root.name ? msg.root : msg.structs.get(name)!;
    return s.fields.some((f) => {
      let t = f.type;
      while (t.kind === 'array') t = t.of;
      return (t.kind === 'primitive' && t.name === 'records') || (t.kind === 'struct' && visit(t.struct));
    });
  };
  return visit(msg.root.name);
}

const inType = (msg: MessageModel) => (hasRecords(msg) ? `${msg.name}<Records>` : msg.name);
const flexMin = (r: Range | null) => (r === null ? 'null' : String(r.min));

interface Api {
  key: number;
  name: string;
  file: string;
  request: MessageModel;
  response: MessageModel;
}

function schemaSource(models: MessageModel[]): string {
  const range = (r: Range | null) => (r === null ? 'null' : `[${r.min}, ${r.max}]`);
  const typeName = (t: MessageModel['root']['fields'][number]['type']): string =>
    t.kind === 'array' ? `[]${typeName(t.of)}` : t.kind === 'struct' ? t.struct : t.name;
  const lines = [
    HEADER,
    '// Structure of every generated message (no prose), for tests and tools: value generators, fixtures.',
    '// Ranges are [min, max] inclusive; 32767 stands for "and later".',
    'export interface SchemaField {',
    '  readonly prop: string;',
    '  readonly type: string;',
    '  readonly versions: readonly [number, number] | null;',
    '  readonly nullable: readonly [number, number] | null;',
    '  readonly tagged: readonly [number, number] | null;',
    '  readonly tag: number | null;',
    '  readonly ignorable: boolean;',
    '  readonly defaultNull: boolean;',
    '  /** Default of a scalar field (numbers, bigint, boolean, string, uuid); undefined for other types. */',
    '  readonly default?: number | bigint | boolean | string | null;',
    '}',
    '',
    'export interface SchemaMessage {',
    '  readonly name: string;',
    '  readonly valid: readonly [number, number];',
    '  readonly flexible: readonly [number, number] | null;',
    '  readonly structs: Readonly<Record<string, readonly SchemaField[]>>;',
    '}',
    '',
    'export const schemas: Readonly<Record<string, SchemaMessage>> = {',
  ];
  for (const msg of models) {
    lines.push(`  ${msg.name}: {`);
    lines.push(`    name: '${msg.name}',`);
    lines.push(`    valid: ${range(msg.valid)},`);
    lines.push(`    flexible: ${range(msg.flexible)},`);
    lines.push(`    structs: {`);
    for (const s of [msg.root, ...msg.structs.values()]) {
      lines.push(`      ${s.name}: [`);
      for (const f of s.fields) {
        const defaultNull = f.default === 'null';
        const scalar = scalarDefault(f);
        lines.push(
          `        { prop: '${f.prop}', type: '${typeName(f.type)}', versions: ${range(f.versions)}, nullable: ${range(f.nullable)}, tagged: ${range(f.tagged)}, tag: ${f.tag ?? 'null'}, ignorable: ${f.ignorable}, defaultNull: ${defaultNull}${scalar === undefined ? '' : `, default: ${scalar}`} },`,
        );
      }
      lines.push(`      ],`);
    }
    lines.push(`    },`);
    lines.push(`  },`);
  }
  lines.push('};', '');
  return lines.join('\n');
}

function dataDescriptor(msg: MessageModel): string {
  return [
    `export const ${msg.name}: DataDescriptor<${msg.name}, ${inType(msg)}> = {`,
    `  name: '${msg.name}',`,
    `  minVersion: ${msg.valid.min},`,
    `  maxVersion: ${msg.valid.max},`,
    `  flexibleMinVersion: ${flexMin(msg.flexible)},`,
    `  read: read${msg.name},`,
    `  write: write${msg.name},`,
    `};`,
    '',
  ].join('\n');
}

export function generate(specRoot: string, outRoot: string): string[] {
  const written: string[] = [];
  const write = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  };
  const messagesDir = join(outRoot, 'messages');
  const internalDir = join(outRoot, 'internal');
  for (const dir of [messagesDir, internalDir]) {
    // Stale files of removed APIs must not survive a regeneration.
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('.ts')) rmSync(join(dir, f));
    } catch {
      // absent: created below
    }
  }

  const models = loadSpecs(join(specRoot, 'message'));
  const requests = new Map<number, MessageModel>();
  const responses = new Map<number, MessageModel>();
  const data: MessageModel[] = [];
  for (const m of models) {
    if (m.kind === 'request') requests.set(m.apiKey!, m);
    else if (m.kind === 'response') responses.set(m.apiKey!, m);
    else if (m.kind === 'data') data.push(m);
  }
  const apis: Api[] = [...requests.keys()]
    .sort((a, b) => a - b)
    .map((key) => {
      const request = requests.get(key)!;
      const response = responses.get(key);
      if (response === undefined) throw new Error(`no response for api key ${key}`);
      const name = request.name.replace(/Request$/, '');
      return { key, name, file: kebabCase(name), request, response };
    });

  write(join(messagesDir, 'common.ts'), HEADER + COMMON_SOURCE);
  for (const api of apis) {
    const { request, response } = api;
    if (request.valid.min !== response.valid.min || request.valid.max !== response.valid.max) {
      throw new Error(`${api.name}: request and response version ranges differ`);
    }
    const descriptor = [
      `export const ${api.name}: ApiDescriptor<${request.name}, ${response.name}, ${inType(request)}, ${inType(response)}> = {`,
      `  apiKey: ${api.key},`,
      `  name: '${api.name}',`,
      `  minVersion: ${request.valid.min},`,
      `  maxVersion: ${request.valid.max},`,
      `  flexibleMinVersion: ${flexMin(request.flexible)},`,
      `  request: { read: read${request.name}, write: write${request.name} },`,
      `  response: { read: read${response.name}, write: write${response.name} },`,
      `};`,
      '',
    ].join('\n');
    write(join(messagesDir, `${api.file}.ts`), emitFile([request, response], './common.js', descriptor));
  }
  for (const msg of data) {
    write(
      join(messagesDir, `${kebabCase(msg.name)}.ts`),
      emitFile([msg], './common.js', dataDescriptor(msg)),
    );
  }
  write(
    join(messagesDir, 'schema.ts'),
    schemaSource([...apis.flatMap((a) => [a.request, a.response]), ...data]),
  );

  const index = [
    HEADER,
    '// Registry of the generated codecs. Each API has an ApiDescriptor (see common.ts):',
    '//   export const Heartbeat: ApiDescriptor<HeartbeatRequest, HeartbeatResponse> = {',
    '//     apiKey: 12, name: "Heartbeat", minVersion: 0, maxVersion: 4, flexibleMinVersion: 4,',
    '//     request: { read(r, version), write(w, version, m) }, response: { read, write } };',
    '// `apis` maps an API key to its descriptor. Message types are named after the spec (HeartbeatRequest);',
    '// nested struct types carry the message name as a prefix (FetchResponsePartitionData). Fields absent in a',
    '// version decode to their default; encoding a non-default value in such a version throws ProtocolError',
    '// unless the spec marks the field ignorable. `_unknownTaggedFields` keeps tags this code does not know.',
    `import type { ApiDescriptor } from './common.js';`,
  ];
  for (const api of apis) index.push(`import { ${api.name} } from './${api.file}.js';`);
  index.push('');
  index.push(`export * from './common.js';`);
  for (const api of apis) index.push(`export * from './${api.file}.js';`);
  for (const msg of data) index.push(`export * from './${kebabCase(msg.name)}.js';`);
  index.push('');
  index.push(
    'export const apis: ReadonlyMap<number, ApiDescriptor<unknown, unknown>> = new Map<number, ApiDescriptor<unknown, unknown>>([',
  );
  for (const api of apis) index.push(`  [${api.key}, ${api.name} as ApiDescriptor<unknown, unknown>],`);
  index.push(']);', '');
  write(join(messagesDir, 'index.ts'), index.join('\n'));

  const internal = loadSpecs(join(specRoot, 'internal'));
  for (const msg of internal) {
    write(
      join(internalDir, `${kebabCase(msg.name)}.ts`),
      emitFile([msg], '../messages/common.js', dataDescriptor(msg)),
    );
  }
  write(join(internalDir, 'schema.ts'), schemaSource(internal));
  const internalIndex = [
    HEADER,
    "// Records of Kafka's internal topics (__consumer_offsets, __transaction_state, ...). On the wire a key or",
    '// value is an int16 version followed by the versioned struct; see encodeVersioned/decodeVersioned.',
    `import type { DataDescriptor } from '../messages/common.js';`,
    `import { Reader } from '../primitives/reader.js';`,
    `import { Writer } from '../primitives/writer.js';`,
    `import { ProtocolError } from '../primitives/protocol-error.js';`,
  ];
  for (const msg of internal)
    internalIndex.push(`import { ${msg.name} } from './${kebabCase(msg.name)}.js';`);
  internalIndex.push('');
  for (const msg of internal) internalIndex.push(`export * from './${kebabCase(msg.name)}.js';`);
  internalIndex.push('');
  internalIndex.push(
    'export const internalFormats: ReadonlyMap<string, DataDescriptor<unknown, unknown>> = new Map<string, DataDescriptor<unknown, unknown>>([',
  );
  for (const msg of internal)
    internalIndex.push(`  ['${msg.name}', ${msg.name} as DataDescriptor<unknown, unknown>],`);
  internalIndex.push(']);', '');
  internalIndex.push(
    [
      '/** int16 version, then the struct in that version. */',
      'export function encodeVersioned<T>(format: DataDescriptor<unknown, T>, version: number, value: T): Buffer {',
      '  if (version < format.minVersion || version > format.maxVersion) {',
      '    throw new ProtocolError(`${format.name} has no version ${version}`);',
      '  }',
      '  const w = new Writer(64);',
      '  w.int16(version);',
      '  format.write(w, version, value);',
      '  return w.toBuffer();',
      '}',
      '',
      '/**',
      ' * Reads the int16 version prefix and the struct; trailing bytes are an error. With `newerAsLatest`, a',
      ' * version above the newest known one is read as the newest and trailing bytes are ignored: the rule for',
      ' * formats that only ever grow at the end (consumer protocol subscription and assignment).',
      ' */',
      'export function decodeVersioned<T>(',
      '  format: DataDescriptor<T, unknown>,',
      '  data: Buffer,',
      '  options: { newerAsLatest?: boolean } = {},',
      '): { version: number; value: T } {',
      '  const r = new Reader(data);',
      '  let version = r.int16();',
      '  const newer = options.newerAsLatest === true && version > format.maxVersion;',
      '  if (newer) version = format.maxVersion;',
      '  if (version < format.minVersion || version > format.maxVersion) {',
      '    throw new ProtocolError(`${format.name} has no version ${version}`);',
      '  }',
      '  const value = format.read(r, version);',
      '  if (r.remaining !== 0 && !newer) throw new ProtocolError(`${r.remaining} trailing bytes after ${format.name}`);',
      '  return { version, value };',
      '}',
      '',
    ].join('\n'),
  );
  write(join(internalDir, 'index.ts'), internalIndex.join('\n'));

  const keys = [
    HEADER,
    "// API keys by name (Kafka's names without the Request suffix) and the version ranges of the generated codecs.",
    'export const ApiKey = {',
    ...apis.map((a) => `  ${a.name}: ${a.key},`),
    '} as const;',
    '',
    'export type ApiName = keyof typeof ApiKey;',
    '',
    'const names = new Map<number, ApiName>([',
    ...apis.map((a) => `  [${a.key}, '${a.name}'],`),
    ']);',
    '',
    'export function apiName(key: number): ApiName | undefined {',
    '  return names.get(key);',
    '}',
    '',
    'export interface ApiVersionRange {',
    '  readonly minVersion: number;',
    '  readonly maxVersion: number;',
    '  /** First flexible version (compact encodings, tagged fields), or null when there is none. */',
    '  readonly flexibleMinVersion: number | null;',
    '}',
    '',
    'export const apiVersionRanges: ReadonlyMap<number, ApiVersionRange> = new Map<number, ApiVersionRange>([',
    ...apis.map(
      (a) =>
        `  [${a.key}, { minVersion: ${a.request.valid.min}, maxVersion: ${a.request.valid.max}, flexibleMinVersion: ${flexMin(a.request.flexible)} }],`,
    ),
    ']);',
    '',
  ];
  write(join(outRoot, 'api-keys.ts'), keys.join('\n'));
  return written;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function defaultSpecRoot(root = repoRoot): string {
  return resolve(root, '..', 'shared', 'kafka-protocol');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outRoot = resolve(process.argv[2] ?? join(repoRoot, 'src', 'protocol'));
  const specRoot = resolve(process.argv[3] ?? defaultSpecRoot());
  const files = generate(specRoot, outRoot);
  console.log(`gen:protocol: wrote ${files.length} files under ${outRoot}`);
}
