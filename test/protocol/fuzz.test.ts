// Decoders fed hostile bytes: random input, every truncation and random single-byte mutations of valid
// encodings, for every request and response decoder at every version. Only ProtocolError may escape,
// nothing may hang, and a huge length or count in a tiny frame must fail before allocating.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRequest, decodeRequestHeader, decodeResponse } from '../../src/protocol/frame.js';
import { internalFormats } from '../../src/protocol/internal/index.js';
import { schemas as internalSchemas } from '../../src/protocol/internal/schema.js';
import * as messages from '../../src/protocol/messages/index.js';
import {
  apis,
  Metadata,
  Produce,
  type DataDescriptor,
  type MessageCodec,
} from '../../src/protocol/messages/index.js';
import { schemas, type SchemaMessage } from '../../src/protocol/messages/schema.js';
import { ProtocolError } from '../../src/protocol/primitives/protocol-error.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { seeded, ValueGenerator } from './value-gen.js';

const SEED = 20261129;

interface Target {
  label: string;
  codec: MessageCodec<unknown>;
  version: number;
  valid: Buffer;
}

const targets: Target[] = [];
for (const api of apis.values()) {
  for (let version = api.minVersion; version <= api.maxVersion; version++) {
    for (const side of ['Request', 'Response'] as const) {
      const codec = side === 'Request' ? api.request : api.response;
      const gen = new ValueGenerator(schemas[api.name + side]!, seeded(api.apiKey * 100 + version), 0.1);
      const w = new Writer();
      codec.write(w, version, gen.message_(version));
      targets.push({ label: `${api.name}${side} v${version}`, codec, version, valid: w.toBuffer() });
    }
  }
}

// Internal topic records and the data formats (consumer protocol metadata) are decoded from untrusted
// bytes too: records in __consumer_offsets, JoinGroup metadata.
const dataFormats: [string, DataDescriptor, SchemaMessage][] = [
  ...[...internalFormats].map(
    ([name, codec]) => [name, codec, internalSchemas[name]!] as [string, DataDescriptor, SchemaMessage],
  ),
  ...Object.keys(schemas)
    .filter((name) => !/(Request|Response)$/.test(name))
    .map(
      (name) =>
        [name, (messages as unknown as Record<string, DataDescriptor>)[name]!, schemas[name]!] as [
          string,
          DataDescriptor,
          SchemaMessage,
        ],
    ),
];
for (const [name, codec, schema] of dataFormats) {
  for (let version = codec.minVersion; version <= codec.maxVersion; version++) {
    const w = new Writer();
    codec.write(w, version, new ValueGenerator(schema, seeded(version), 0.1).message_(version));
    targets.push({ label: `${name} v${version}`, codec, version, valid: w.toBuffer() });
  }
}

/** Decodes; returns normally or throws ProtocolError. Anything else fails the test. */
function decode(target: Target, bytes: Buffer): void {
  try {
    target.codec.read(new Reader(bytes), target.version);
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      assert.fail(`${target.label} threw ${String(error)} on ${bytes.toString('hex')}`);
    }
  }
}

test('random bytes: only ProtocolError, for every request, response, internal and data decoder', () => {
  const random = seeded(SEED);
  for (const target of targets) {
    for (let i = 0; i < 3; i++) {
      const bytes = Buffer.alloc(Math.floor(random() * 48));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      decode(target, bytes);
    }
  }
});

test('every strict prefix of a valid encoding is a ProtocolError', () => {
  for (const target of targets) {
    for (let end = 0; end < target.valid.length; end++) {
      assert.throws(
        () => target.codec.read(new Reader(target.valid.subarray(0, end)), target.version),
        ProtocolError,
        `${target.label} cut at ${end}`,
      );
    }
  }
});

test('single-byte mutations of valid encodings (fast-check, fixed seed)', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: targets.length - 1 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (index, position, value) => {
        const target = targets[index]!;
        if (target.valid.length === 0) return;
        const bytes = Buffer.from(target.valid);
        bytes[position % bytes.length] = value;
        decode(target, bytes);
      },
    ),
    { seed: SEED, numRuns: 6000 },
  );
});

test('random frames through the framing helpers: only ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: apis.size - 1 }), (raw, which) => {
      const frame = Buffer.from(raw);
      const api = [...apis.values()][which]!;
      for (const f of [
        () => decodeRequestHeader(frame),
        () => decodeRequest(frame),
        () => decodeResponse(api, api.maxVersion, frame),
        () => decodeResponse(api, api.minVersion, frame),
      ]) {
        try {
          f();
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
        }
      }
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('a huge length or count in a tiny frame fails at once, without allocating it', () => {
  const before = process.memoryUsage().arrayBuffers;
  // Metadata v1 request whose topic count claims 2^31-1 elements.
  const manyTopics = Buffer.from('7fffffff', 'hex');
  assert.throws(() => Metadata.request.read(new Reader(manyTopics), 1), /exceeds/);
  // Metadata v9 (flexible): compact count 2^32-2.
  assert.throws(() => Metadata.request.read(new Reader(Buffer.from('ffffffff0f', 'hex')), 9), /exceeds/);
  // Produce v3 request whose records claim 2 GiB.
  const produce = Buffer.from(
    'ffff ffff 000005dc 00000001 0001 74 00000001 00000000 7fffffff 00'.replace(/ /g, ''),
    'hex',
  );
  assert.throws(() => Produce.request.read(new Reader(produce), 3), /exceeds/);
  // A tagged field claiming 4 GiB in a flexible Produce v9 request.
  const tagged = Buffer.from('00 ffff ff00 000005dc 01 01 05 ffffffff0f'.replace(/ /g, ''), 'hex');
  assert.throws(() => Produce.request.read(new Reader(tagged), 9), ProtocolError);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
});
