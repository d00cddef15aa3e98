// Request and response headers, and which header version each API version uses.
//
// Request header: v0 = apiKey int16, apiVersion int16, correlationId int32 (only ControlledShutdown v0);
// v1 adds clientId as a classic nullable string (int16 length, even in flexible versions, so that any broker
// can read an ApiVersions request of a version it does not know); v2 adds a tagged-field section.
// Response header: v0 = correlationId int32; v1 adds a tagged-field section.
// A request uses header v2 when its API version is flexible, else v1. A response uses v1 when flexible, else
// v0, except ApiVersions responses, which always use v0: a client must be able to read the reply to a
// version the broker may not support.
import { apiVersionRanges, ApiKey } from './api-keys.js';
import type { Reader } from './primitives/reader.js';
import { readUnknownTaggedFields, writeTaggedFields, type TaggedField } from './primitives/tagged-fields.js';
import type { Writer } from './primitives/writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  headerVersion: number;
  _unknownTaggedFields?: TaggedField[];
}

export interface ResponseHeader {
  correlationId: number;
  headerVersion: number;
  _unknownTaggedFields?: TaggedField[];
}

function isFlexible(apiKey: number, apiVersion: number): boolean | undefined {
  const range = apiVersionRanges.get(apiKey);
  if (range === undefined) return undefined;
  return range.flexibleMinVersion !== null && apiVersion >= range.flexibleMinVersion;
}

/**
 * Header version of a request. Versions outside the supported range follow the same rule (a version above
 * the first flexible one is flexible), so a broker can still read the header of an unsupported version and
 * answer UNSUPPORTED_VERSION. An unknown API key gets 1: its correlation id and client id are where v1 and v2
 * put them.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ControlledShutdown && apiVersion === 0) return 0;
  const flexible = isFlexible(apiKey, apiVersion);
  if (flexible === undefined) return 1;
  return flexible ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexible(apiKey, apiVersion) === true ? 1 : 0;
}

/** Reads a request header; the header version comes from the API key and version it starts with. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const header: RequestHeader = {
    apiKey,
    apiVersion,
    correlationId,
    clientId: headerVersion >= 1 ? r.nullableString(false) : null,
    headerVersion,
  };
  if (headerVersion >= 2) {
    const tags = readUnknownTaggedFields(r);
    if (tags !== undefined) header._unknownTaggedFields = tags;
  }
  return header;
}

export function writeRequestHeader(
  w: Writer,
  header: Pick<
    RequestHeader,
    'apiKey' | 'apiVersion' | 'correlationId' | 'clientId' | '_unknownTaggedFields'
  >,
): void {
  const headerVersion = requestHeaderVersion(header.apiKey, header.apiVersion);
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  if (headerVersion >= 1) w.nullableString(false, header.clientId);
  if (headerVersion >= 2) writeTaggedFields(w, header._unknownTaggedFields?.slice());
}

export function readResponseHeader(r: Reader, headerVersion: number): ResponseHeader {
  const header: ResponseHeader = { correlationId: r.int32(), headerVersion };
  if (headerVersion >= 1) {
    const tags = readUnknownTaggedFields(r);
    if (tags !== undefined) header._unknownTaggedFields = tags;
  }
  return header;
}

export function writeResponseHeader(
  w: Writer,
  headerVersion: number,
  correlationId: number,
  tags?: TaggedField[],
): void {
  w.int32(correlationId);
  if (headerVersion >= 1) writeTaggedFields(w, tags?.slice());
}
