// Public entry point of the `fjord` package.
export { ProtocolError } from './protocol/primitives/protocol-error.js';
export { Broker, type BrokerOptions } from './server/broker.js';
export * from './client/index.js';
