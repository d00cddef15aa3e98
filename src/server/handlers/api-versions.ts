// ApiVersions v0–4. Lists exactly the APIs and versions the handler registry serves.
// v1: throttle time; v3: flexible, client software name/version (accepted, unused); v3+: supported and
// finalized features (none: Fjord has no feature flags). An unsupported version gets the v0-shaped
// UNSUPPORTED_VERSION answer from the dispatcher.
import { ErrorCode } from '../../protocol/error-codes.js';
import { ApiVersions } from '../../protocol/messages/api-versions.js';
import { handler } from './define.js';

export const apiVersionsHandler = handler(ApiVersions, { min: 0, max: 4 }, (_request, { broker }) => ({
  errorCode: ErrorCode.NONE,
  apiKeys: broker.apiVersions(),
  throttleTimeMs: 0,
  supportedFeatures: [],
  finalizedFeaturesEpoch: -1n,
  finalizedFeatures: [],
  zkMigrationReady: false,
}));
