// Source of src/protocol/messages/common.ts, which the generator writes out verbatim (after the header)
// so every generated file imports its shared types and helpers from one generated place.
export const COMMON_SOURCE = `// Shared types and helpers of the generated codecs.
//
// ApiDescriptor: one per API key (Produce, Fetch, ...): apiKey, name, the supported version range and the
// first flexible version (null when none), and a request and a response codec. A codec is
// { read(r, version): T; write(w, version, m: TIn): void }. TIn differs from T only for messages holding
// record data (Produce request, Fetch/ShareFetch/FetchSnapshot responses): decoding yields Buffers, encoding
// also accepts a RecordsRef (see primitives/writer.ts).
// DataDescriptor: the same codec for a versioned data format that is not an API (internal topic records,
// consumer protocol metadata).
import type { Reader } from '../primitives/reader.js';
import type { RecordsRef, Writer } from '../primitives/writer.js';
import { ProtocolError } from '../primitives/protocol-error.js';

export interface MessageCodec<T, TIn = T> {
  read(r: Reader, version: number): T;
  write(w: Writer, version: number, m: TIn): void;
}

export interface ApiDescriptor<Req = unknown, Resp = unknown, ReqIn = Req, RespIn = Resp> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly flexibleMinVersion: number | null;
  readonly request: MessageCodec<Req, ReqIn>;
  readonly response: MessageCodec<Resp, RespIn>;
}

export interface DataDescriptor<T = unknown, TIn = T> extends MessageCodec<T, TIn> {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly flexibleMinVersion: number | null;
}

/** A records field's value when encoding: bytes in memory, or a reference to bytes elsewhere. */
export type Records = Buffer | RecordsRef;

/** Kafka's all-zero uuid, as printed. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

export function unsupportedField(message: string, field: string, version: number): ProtocolError {
  return new ProtocolError(\`\${message} v\${version} has no field \${field}, and it is set to a non-default value\`);
}

export function nullField(message: string, field: string, version: number): ProtocolError {
  return new ProtocolError(\`\${message} v\${version}: field \${field} is not nullable in this version\`);
}
`;
