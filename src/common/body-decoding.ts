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
function decode(encoding: string, payload: NodeJS.ReadableStream, response: NodeJS.EventEmitter): NodeJS.ReadableStream & { receivedEncodedLength?: number } {
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
  // Fastify may answer without ever reading the body (a Content-Type it cannot parse: 415; a
  // route that takes none), and then no one listens on `out`: an error emitted there (the
  // inflater meeting a truncated body) would be unhandled and take the process down. Errors go to
  // whoever reads the body; unread, they are dropped with the body.
  out.on('error', () => {});
  out.on('close', () => inflater.destroy());
  // Once the response is done, an unread body is discarded (so a keep-alive connection goes on
  // to its next request) and the inflater freed.
  response.once('close', () => {
    payload.unpipe(counter);
    counter.destroy();
    out.destroy();
    if (!(payload as NodeJS.ReadableStream & { readableEnded?: boolean }).readableEnded) payload.resume();
  });
  payload.pipe(counter).pipe(inflater).pipe(out);
  return out;
}

/** Any route may receive a gzip or deflate body; the size cap applies after decompression. */
export function registerBodyDecoding(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', async (request: FastifyRequest, reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') return decode(encoding, payload, reply.raw) as typeof payload;
    const err = new Error(`Content-Encoding "${encoding}" is not supported; send gzip, deflate or an uncompressed body.`) as Error & { statusCode: number };
    err.statusCode = 415;
    throw err;
  });
}
