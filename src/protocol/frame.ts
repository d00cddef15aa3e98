// Framing: a Kafka frame is an int32 size followed by that many bytes: a header, then the body.
//
// Frames passed to the decoders here EXCLUDE the 4-byte size prefix (the connection strips it); the encoders
// return frames WITH it, ready to write to a socket. Decoders throw only ProtocolError.
import { apis, type ApiDescriptor } from './messages/index.js';
import {
  readRequestHeader,
  readResponseHeader,
  responseHeaderVersion,
  writeRequestHeader,
  writeResponseHeader,
  type RequestHeader,
  type ResponseHeader,
} from './headers.js';
import { ProtocolError } from './primitives/protocol-error.js';
import { Reader } from './primitives/reader.js';
import { Writer, type Chunk } from './primitives/writer.js';

export type { RequestHeader, ResponseHeader } from './headers.js';

/** An API key or its descriptor; a descriptor gives the body a static type. */
export type ApiRef<Req = unknown, Resp = unknown, ReqIn = Req, RespIn = Resp> =
  number | ApiDescriptor<Req, Resp, ReqIn, RespIn>;

/** The descriptor for `apiKey` when `version` is supported; throws ProtocolError otherwise. */
export function apiFor(apiKey: number, version: number): ApiDescriptor {
  const api = apis.get(apiKey);
  if (api === undefined) throw new ProtocolError(`unknown api key ${apiKey}`);
  if (version < api.minVersion || version > api.maxVersion) {
    throw new ProtocolError(`${api.name} v${version} is not supported (${api.minVersion}-${api.maxVersion})`);
  }
  return api;
}

function resolve<Req, Resp, ReqIn, RespIn>(
  ref: ApiRef<Req, Resp, ReqIn, RespIn>,
  version: number,
): ApiDescriptor<Req, Resp, ReqIn, RespIn> {
  const api = typeof ref === 'number' ? apiFor(ref, version) : ref;
  if (version < api.minVersion || version > api.maxVersion) {
    throw new ProtocolError(`${api.name} v${version} is not supported (${api.minVersion}-${api.maxVersion})`);
  }
  return api as ApiDescriptor<Req, Resp, ReqIn, RespIn>;
}

/**
 * Reads only the request header. Does not throw for an unknown API key or an unsupported version, so the
 * broker can still answer with the correlation id; throws ProtocolError on truncated input.
 */
export function decodeRequestHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number } {
  const r = new Reader(frame);
  const header = readRequestHeader(r);
  return { header, bodyOffset: r.offset };
}

/**
 * The body after decodeRequestHeader, without reading the header again. Throws ProtocolError for an unknown
 * API key, an unsupported version or malformed bytes.
 */
export function decodeRequestBody<Req = unknown>(
  header: RequestHeader,
  frame: Buffer,
  bodyOffset: number,
): Req {
  const api = apiFor(header.apiKey, header.apiVersion);
  return api.request.read(new Reader(frame, bodyOffset), header.apiVersion) as Req;
}

export interface DecodedRequest<Req = unknown> {
  header: RequestHeader;
  api: ApiDescriptor;
  body: Req;
}

/** Header and body; throws ProtocolError for an unknown API key, unsupported version or malformed bytes. */
export function decodeRequest<Req = unknown>(frame: Buffer): DecodedRequest<Req> {
  const r = new Reader(frame);
  const header = readRequestHeader(r);
  const api = apiFor(header.apiKey, header.apiVersion);
  const body = api.request.read(r, header.apiVersion) as Req;
  return { header, api, body };
}

function writeRequestFrame<Req, ReqIn>(
  api: ApiRef<Req, unknown, ReqIn, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: ReqIn,
): Writer {
  const d = resolve(api, version);
  const w = Writer.forFrame();
  w.int32(0);
  writeRequestHeader(w, { apiKey: d.apiKey, apiVersion: version, correlationId, clientId });
  d.request.write(w, version, body);
  w.patchSizePrefix();
  return w;
}

/** A request frame with its size prefix. Throws if the body holds a RecordsRef (see encodeRequestChunks). */
export function encodeRequest<Req, ReqIn>(
  api: ApiRef<Req, unknown, ReqIn, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: ReqIn,
): Buffer {
  return writeRequestFrame(api, version, correlationId, clientId, body).toBuffer();
}

/**
 * A request frame as chunks for writev: record Buffers of LARGE_CHUNK bytes or more and RecordsRefs by
 * reference, so a producer's batches are not copied into the frame.
 */
export function encodeRequestChunks<Req, ReqIn>(
  api: ApiRef<Req, unknown, ReqIn, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: ReqIn,
): Chunk[] {
  return writeRequestFrame(api, version, correlationId, clientId, body).toChunks();
}

function writeResponseFrame<Resp, RespIn>(
  api: ApiRef<unknown, Resp, unknown, RespIn>,
  version: number,
  correlationId: number,
  body: RespIn,
): Writer {
  const d = resolve(api, version);
  const w = Writer.forFrame();
  w.int32(0);
  writeResponseHeader(w, responseHeaderVersion(d.apiKey, version), correlationId);
  d.response.write(w, version, body);
  w.patchSizePrefix();
  return w;
}

/**
 * A response frame with its size prefix: one Buffer (record Buffers copied into it once), or, when the body
 * holds a RecordsRef, the chunks to writev/sendfile in order (the first holds the size prefix and header).
 */
export function encodeResponse<Resp, RespIn>(
  api: ApiRef<unknown, Resp, unknown, RespIn>,
  version: number,
  correlationId: number,
  body: RespIn,
): Buffer | Chunk[] {
  const w = writeResponseFrame(api, version, correlationId, body);
  return w.hasRecordsRef ? w.toChunks() : w.toBuffer();
}

/**
 * Like encodeResponse, always as chunks, with RecordsRefs and record Buffers of LARGE_CHUNK bytes or more
 * by reference (not copied), for writev/sendfile.
 */
export function encodeResponseChunks<Resp, RespIn>(
  api: ApiRef<unknown, Resp, unknown, RespIn>,
  version: number,
  correlationId: number,
  body: RespIn,
): Chunk[] {
  return writeResponseFrame(api, version, correlationId, body).toChunks();
}

/** Response header and body of a frame without its size prefix. */
export function decodeResponse<Resp = unknown>(
  api: ApiRef<unknown, Resp, unknown, unknown>,
  version: number,
  frame: Buffer,
): { header: ResponseHeader; body: Resp } {
  const d = resolve(api, version);
  const r = new Reader(frame);
  const header = readResponseHeader(r, responseHeaderVersion(d.apiKey, version));
  const body = d.response.read(r, version);
  return { header, body };
}
