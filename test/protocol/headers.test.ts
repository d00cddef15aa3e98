import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKey, apiName, apiVersionRanges } from '../../src/protocol/api-keys.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/headers.js';
import { apis } from '../../src/protocol/messages/index.js';

test('request header: v2 when flexible, v1 otherwise, v0 only for ControlledShutdown v0', () => {
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 3), 2);
  assert.equal(requestHeaderVersion(ApiKey.Metadata, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Metadata, 9), 2);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 2), 1);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
  assert.equal(requestHeaderVersion(ApiKey.Fetch, 12), 2);
});

test('response header: v1 when flexible, v0 otherwise, and always v0 for ApiVersions', () => {
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 8), 0);
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 9), 1);
  assert.equal(responseHeaderVersion(ApiKey.Fetch, 11), 0);
  assert.equal(responseHeaderVersion(ApiKey.Fetch, 12), 1);
  for (let v = 0; v <= 4; v++) assert.equal(responseHeaderVersion(ApiKey.ApiVersions, v), 0);
});

test('every API version follows the rule derived from its first flexible version', () => {
  for (const api of apis.values()) {
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const flexible = api.flexibleMinVersion !== null && v >= api.flexibleMinVersion;
      const expectedRequest = api.apiKey === ApiKey.ControlledShutdown && v === 0 ? 0 : flexible ? 2 : 1;
      assert.equal(requestHeaderVersion(api.apiKey, v), expectedRequest, `${api.name} v${v}`);
      const expectedResponse = api.apiKey === ApiKey.ApiVersions ? 0 : flexible ? 1 : 0;
      assert.equal(responseHeaderVersion(api.apiKey, v), expectedResponse, `${api.name} v${v}`);
    }
  }
});

test('unknown API keys and versions above the range still get a header version', () => {
  assert.equal(requestHeaderVersion(9999, 0), 1);
  assert.equal(responseHeaderVersion(9999, 0), 0);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 99), 2);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 99), 0);
});

test('api-keys table matches the registry', () => {
  assert.equal(ApiKey.Produce, 0);
  assert.equal(ApiKey.Fetch, 1);
  assert.equal(ApiKey.ApiVersions, 18);
  assert.equal(apiName(12), 'Heartbeat');
  assert.equal(apiName(4242), undefined);
  assert.equal(apiVersionRanges.size, apis.size);
  for (const api of apis.values()) {
    assert.equal(apiName(api.apiKey), api.name);
    assert.deepEqual(apiVersionRanges.get(api.apiKey), {
      minVersion: api.minVersion,
      maxVersion: api.maxVersion,
      flexibleMinVersion: api.flexibleMinVersion,
    });
  }
});
