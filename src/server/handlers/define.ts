// defineHandler bound to this broker's context, so handler files only name their API.
import type { ApiDescriptor } from '../../protocol/messages/common.js';
import type { BrokerContext } from '../broker-context.js';
import { defineHandler, type Handler, type RequestContext } from '../dispatch.js';

export type Context = RequestContext<BrokerContext>;
export type BrokerHandler = Handler<BrokerContext>;

export function handler<Req, Resp, ReqIn, RespIn>(
  api: ApiDescriptor<Req, Resp, ReqIn, RespIn>,
  versions: { min: number; max: number },
  handle: (request: Req, context: Context) => RespIn | null | Promise<RespIn | null>,
  errorResponse?: (request: Req, errorCode: number, version: number) => RespIn,
): BrokerHandler {
  return defineHandler<BrokerContext, Req, Resp, ReqIn, RespIn>(api, versions, handle, errorResponse);
}
