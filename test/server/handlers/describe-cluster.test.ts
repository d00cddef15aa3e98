import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { DescribeCluster } from '../../../src/protocol/messages/describe-cluster.js';
import { startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker({ 'node.id': '3' });
});
after(() => t.close());

test('v0 and v1 describe this broker as the cluster and its controller', async () => {
  for (const version of [0, 1]) {
    const response = await t.client.send(DescribeCluster, version, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.equal(response.errorMessage, null);
    assert.equal(response.clusterId, t.broker.clusterId);
    assert.equal(response.clusterId.length, 22);
    assert.equal(response.controllerId, 3);
    assert.deepEqual(response.brokers, [{ brokerId: 3, host: '127.0.0.1', port: t.broker.port, rack: null }]);
    assert.equal(response.clusterAuthorizedOperations, -2147483648);
    assert.equal(response.endpointType, 1);
  }
});

test('authorized operations when asked; controller endpoints are refused', async () => {
  const withOps = await t.client.send(DescribeCluster, 1, {
    includeClusterAuthorizedOperations: true,
    endpointType: 1,
  });
  // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
  assert.equal(withOps.clusterAuthorizedOperations, 0b1111110100000);
  const controllers = await t.client.send(DescribeCluster, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 2,
  });
  assert.equal(controllers.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
  assert.deepEqual(controllers.brokers, []);
  const unknown = await t.client.send(DescribeCluster, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 9,
  });
  assert.equal(unknown.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
});

test('the cluster id survives a restart', async () => {
  const before = t.broker.clusterId;
  await t.restart();
  const response = await t.client.send(DescribeCluster, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 1,
  });
  assert.equal(response.clusterId, before);
  assert.equal(response.brokers[0]!.port, t.broker.port);
});
