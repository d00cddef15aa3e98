// Every message, request and response, at every valid version: generated values (nullables null and not,
// tagged fields set and default, unknown tagged fields) survive encode -> decode, and re-encoding gives
// identical bytes. Internal record formats and the data formats in message/ too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as internal from '../../src/protocol/internal/index.js';
import { schemas as internalSchemas } from '../../src/protocol/internal/schema.js';
import * as messages from '../../src/protocol/messages/index.js';
import { apis, type MessageCodec } from '../../src/protocol/messages/index.js';
import { schemas } from '../../src/protocol/messages/schema.js';
import type { SchemaMessage } from '../../src/protocol/messages/schema.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { seeded, ValueGenerator } from './value-gen.js';

const SAMPLES = 6;

function encode(codec: MessageCodec<unknown>, version: number, value: unknown): Buffer {
  const w = new Writer(16);
  codec.write(w, version, value);
  return w.toBuffer();
}

function roundTrip(
  label: string,
  codec: MessageCodec<unknown>,
  schema: SchemaMessage,
  version: number,
  seed: number,
) {
  const gen = new ValueGenerator(schema, seeded(seed));
  for (let i = 0; i < SAMPLES; i++) {
    const value = gen.message_(version);
    const bytes = encode(codec, version, value);
    const r = new Reader(bytes);
    const decoded = codec.read(r, version);
    assert.equal(r.remaining, 0, `${label} v${version}: bytes left after decoding`);
    assert.deepStrictEqual(decoded, value, `${label} v${version} sample ${i}`);
    assert.deepStrictEqual(
      encode(codec, version, decoded),
      bytes,
      `${label} v${version}: re-encoding differs`,
    );
  }
}

test('every API has a request and a response codec with a schema', () => {
  assert.ok(apis.size >= 80, `only ${apis.size} APIs`);
  for (const api of apis.values()) {
    assert.ok(schemas[`${api.name}Request`], api.name);
    assert.ok(schemas[`${api.name}Response`], api.name);
  }
});

for (const api of apis.values()) {
  test(`${api.name} (key ${api.apiKey}) v${api.minVersion}-${api.maxVersion} round-trips`, () => {
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      roundTrip(
        `${api.name}Request`,
        api.request,
        schemas[`${api.name}Request`]!,
        version,
        api.apiKey * 1000 + version,
      );
      roundTrip(
        `${api.name}Response`,
        api.response,
        schemas[`${api.name}Response`]!,
        version,
        api.apiKey * 1000 + 500 + version,
      );
    }
  });
}

test('default<Message>() values encode at every version and decode to themselves', () => {
  const named = messages as unknown as Record<string, (() => unknown) | undefined>;
  for (const api of apis.values()) {
    for (const [side, codec] of [
      ['Request', api.request],
      ['Response', api.response],
    ] as const) {
      const make = named[`default${api.name}${side}`];
      assert.ok(make, `default${api.name}${side}`);
      for (let version = api.minVersion; version <= api.maxVersion; version++) {
        const value: unknown = make();
        const decoded = codec.read(new Reader(encode(codec, version, value)), version);
        assert.deepStrictEqual(decoded, value, `${api.name}${side} v${version}`);
      }
    }
  }
});

test('data formats (consumer protocol, raft records, principal) round-trip', () => {
  const names = Object.keys(schemas).filter((n) => !/(Request|Response)$/.test(n));
  assert.ok(names.includes('ConsumerProtocolSubscription') && names.includes('ConsumerProtocolAssignment'));
  for (const name of names) {
    const codec = (messages as unknown as Record<string, messages.DataDescriptor>)[name]!;
    for (let version = codec.minVersion; version <= codec.maxVersion; version++) {
      roundTrip(name, codec, schemas[name]!, version, version + 7);
    }
  }
});

test('internal topic records round-trip, with and without the version prefix', () => {
  for (const name of [
    'GroupMetadataKey',
    'GroupMetadataValue',
    'OffsetCommitKey',
    'OffsetCommitValue',
    'TransactionLogKey',
    'TransactionLogValue',
  ]) {
    assert.ok(internal.internalFormats.has(name), name);
  }
  for (const [name, codec] of internal.internalFormats) {
    const schema = internalSchemas[name]!;
    for (let version = codec.minVersion; version <= codec.maxVersion; version++) {
      roundTrip(name, codec, schema, version, version + 99);
      const value = new ValueGenerator(schema, seeded(version)).message_(version);
      const bytes = internal.encodeVersioned(codec, version, value);
      assert.equal(bytes.readInt16BE(0), version);
      assert.deepStrictEqual(internal.decodeVersioned(codec, bytes), { version, value });
    }
  }
});

test('decodeVersioned reads a newer consumer protocol version as the latest when asked', () => {
  const codec = messages.ConsumerProtocolSubscription;
  const value = messages.defaultConsumerProtocolSubscription();
  value.topics = ['a', 'b'];
  const latest = internal.encodeVersioned(codec, codec.maxVersion, value);
  const newer = Buffer.concat([latest, Buffer.from([1, 2, 3])]);
  newer.writeInt16BE(codec.maxVersion + 1, 0);
  assert.throws(() => internal.decodeVersioned(codec, newer), { name: 'ProtocolError' });
  assert.deepStrictEqual(internal.decodeVersioned(codec, newer, { newerAsLatest: true }), {
    version: codec.maxVersion,
    value,
  });
});
