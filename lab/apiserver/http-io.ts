/**
 * The wire format of one request: reading and decoding its body (JSON, YAML, or Kubernetes
 * protobuf for the built-in kinds kubectl sends that way), the patch type its Content-Type
 * names, and writing a JSON answer or a Status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { PatchType } from './core.js';
import { decodeProtobuf, ProtobufError } from './protobuf/decode.js';
import { ApiError, badRequest } from './status.js';

export function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers with the error as a Status (any error that is not an ApiError is a 500). */
export function sendError(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof ApiError
      ? err
      : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  if (e.code === 429 && !res.headersSent) res.setHeader('Retry-After', '1');
  send(res, e.code, e.toStatus());
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function parseBody(body: Buffer, contentType: string): unknown {
  if (contentType.startsWith('application/vnd.kubernetes.protobuf')) {
    if (body.length === 0) return undefined;
    try {
      return decodeProtobuf(body);
    } catch (err) {
      if (err instanceof ProtobufError)
        throw new ApiError(415, 'UnsupportedMediaType', `the protobuf body could not be decoded: ${err.message}`);
      throw badRequest(`the protobuf body could not be decoded: ${(err as Error).message}`);
    }
  }
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

export function patchTypeOf(contentType: string): PatchType {
  if (contentType.startsWith('application/merge-patch+json')) return 'merge';
  if (contentType.startsWith('application/json-patch+json')) return 'json';
  if (contentType.startsWith('application/strategic-merge-patch+json')) return 'strategic';
  if (contentType.startsWith('application/apply-patch+yaml') || contentType.startsWith('application/apply-patch+json'))
    return 'apply';
  throw new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  );
}
