import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ApiVersions } from '../../../src/protocol/messages/api-versions.js';
import { InitProducerId } from '../../../src/protocol/messages/init-producer-id.js';
import { startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
});
after(() => t.close());

const init = (
  version: number,
  fields: { transactionalId?: string | null; producerId?: bigint; producerEpoch?: number } = {},
) =>
  t.client.send(InitProducerId, version, {
    transactionalId: fields.transactionalId ?? null,
    transactionTimeoutMs: 60000,
    producerId: fields.producerId ?? -1n,
    producerEpoch: fields.producerEpoch ?? -1,
  });

test('ApiVersions advertises InitProducerId v0-5', async () => {
  const response = await t.client.send(ApiVersions, 3, {
    clientSoftwareName: 't',
    clientSoftwareVersion: '0',
  });
  const entry = response.apiKeys.find((k) => k.apiKey === 22);
  assert.deepEqual(entry && [entry.minVersion, entry.maxVersion], [0, 5]);
});

test('every version issues distinct producer ids with epoch 0', async () => {
  const ids = new Set<bigint>();
  for (let version = 0; version <= 5; version++) {
    const response = await init(version);
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.equal(response.producerEpoch, 0);
    assert.ok(response.producerId >= 0n);
    ids.add(response.producerId);
  }
  assert.equal(ids.size, 6);
});

test('a caller presenting its id and epoch (v3+) gets the epoch bumped; a stale epoch is fenced by version', async () => {
  const first = await init(4);
  const bumped = await init(4, { producerId: first.producerId, producerEpoch: 0 });
  assert.deepEqual(
    [bumped.errorCode, bumped.producerId, bumped.producerEpoch],
    [ErrorCode.NONE, first.producerId, 1],
  );
  const again = await init(5, { producerId: first.producerId, producerEpoch: 1 });
  assert.deepEqual(
    [again.errorCode, again.producerId, again.producerEpoch],
    [ErrorCode.NONE, first.producerId, 2],
  );
  const fenced = await init(4, { producerId: first.producerId, producerEpoch: 0 });
  assert.deepEqual(
    [fenced.errorCode, fenced.producerId, fenced.producerEpoch],
    [ErrorCode.PRODUCER_FENCED, -1n, -1],
  );
  const old = await init(3, { producerId: first.producerId, producerEpoch: 1 });
  assert.equal(old.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  // An exhausted epoch, or an id this broker never issued, gets a fresh id.
  const exhausted = await init(4, { producerId: first.producerId, producerEpoch: 32766 });
  assert.equal(exhausted.errorCode, ErrorCode.NONE);
  assert.notEqual(exhausted.producerId, first.producerId);
  assert.equal(exhausted.producerEpoch, 0);
  const stranger = await init(4, { producerId: 1n << 40n, producerEpoch: 3 });
  assert.equal(stranger.errorCode, ErrorCode.NONE);
  assert.notEqual(stranger.producerId, 1n << 40n);
  assert.equal(stranger.producerEpoch, 0);
});

test('an id without an epoch (or the reverse) is INVALID_REQUEST, as in Kafka', async () => {
  assert.equal((await init(4, { producerId: 5n })).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal((await init(4, { producerEpoch: 5 })).errorCode, ErrorCode.INVALID_REQUEST);
});

test('transactional ids: empty is INVALID_REQUEST, others COORDINATOR_NOT_AVAILABLE (no transactions yet)', async () => {
  assert.equal((await init(4, { transactionalId: '' })).errorCode, ErrorCode.INVALID_REQUEST);
  const response = await init(4, { transactionalId: 'my-txn' });
  assert.deepEqual(
    [response.errorCode, response.producerId, response.producerEpoch],
    [ErrorCode.COORDINATOR_NOT_AVAILABLE, -1n, -1],
  );
});

test('producer ids stay unique across restarts (the claimed block is durable)', async () => {
  const before = await init(4);
  const file = join(t.broker.config.logDirs[0]!, 'fjord-producer-ids');
  assert.match(readFileSync(file, 'utf8'), /^0\n\d+\n$/);
  await t.restart();
  const after = await init(4);
  assert.equal(after.errorCode, ErrorCode.NONE);
  assert.ok(after.producerId > before.producerId, `${after.producerId} after ${before.producerId}`);
});

test('a producer id counter that does not parse is refused, not guessed', async () => {
  const file = join(t.broker.config.logDirs[0]!, 'fjord-producer-ids');
  writeFileSync(file, 'garbage\n');
  await t.restart();
  const response = await init(4);
  assert.equal(response.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  writeFileSync(file, '0\n5000\n');
  await t.restart();
  assert.equal((await init(4)).producerId, 5000n);
});
