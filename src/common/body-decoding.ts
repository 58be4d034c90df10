import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PassThrough, Transform, TransformCallback } from 'node:stream';
import { createGunzip, createInflate, Gunzip, Inflate } from 'node:zlib';

class BadEncodingError extends Error {
  readonly statusCode = 400;
  readonly code = 'SLUICE_BAD_CONTENT_ENCODING';
}

/**
 * Wraps the body stream in a decompressor. Fastify then applies bodyLimit to the
 * decompressed bytes (the zip-bomb cap) and checks Content-Length against
 * `receivedEncodedLength`, the compressed bytes we count here.
 */
function decode(encoding: string, payload: NodeJS.ReadableStream): NodeJS.ReadableStream & { receivedEncodedLength?: number } {
  const inflater: Gunzip | Inflate = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : createInflate();
  let encoded = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      encoded += chunk.length;
      cb(null, chunk);
    },
  });
  const out = new PassThrough() as PassThrough & { receivedEncodedLength?: number };
  Object.defineProperty(out, 'receivedEncodedLength', { get: () => encoded });
  // Corrupt data surfaces as a client error (400), never as a crash or a 500.
  inflater.on('error', (err) => out.destroy(new BadEncodingError(`The body is not valid ${encoding} data (${err.message}).`)));
  payload.on('error', (err) => out.destroy(err));
  out.on('close', () => inflater.destroy());
  payload.pipe(counter).pipe(inflater).pipe(out);
  return out;
}

/** Any route may receive a gzip or deflate body; the size cap applies after decompression. */
export function registerBodyDecoding(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', async (request: FastifyRequest, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') return decode(encoding, payload) as typeof payload;
    const err = new Error(`Content-Encoding "${encoding}" is not supported; send gzip, deflate or an uncompressed body.`) as Error & { statusCode: number };
    err.statusCode = 415;
    throw err;
  });
}
