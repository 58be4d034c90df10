import Fastify, { FastifyInstance } from 'fastify';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { registerBodyDecoding } from './body-decoding';

/** A bare Fastify with the body decoding and two routes: one that reads a JSON body, one that takes none. */
async function server(): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ bodyLimit: 1024 });
  registerBodyDecoding(app);
  app.post('/echo', async (req) => ({ got: req.body }));
  app.get('/plain', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as AddressInfo).port };
}

function send(agent: http.Agent, port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('no answer (hang)')));
    req.on('error', reject);
    req.end(body);
  });
}

const json = Buffer.from('{"userId":"u","event":"e"}');
const truncatedGzip = gzipSync(json).subarray(0, 20);

describe('registerBodyDecoding', () => {
  let app: FastifyInstance;
  let port: number;
  let agent: http.Agent;

  beforeAll(async () => {
    ({ app, port } = await server());
  });
  beforeEach(() => {
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());
  afterAll(async () => {
    await app.close();
  });

  it('decodes gzip and refuses corrupt gzip with a 400', async () => {
    expect(await send(agent, port, 'POST', '/echo', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, gzipSync(json))).toEqual({ status: 200, text: JSON.stringify({ got: JSON.parse(json.toString()) }) });
    expect((await send(agent, port, 'POST', '/echo', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, truncatedGzip)).status).toBe(400);
  });

  // Fastify answers these without reading the body: the inflater then meets the truncated body
  // with no one listening for its error, which used to be an unhandled 'error' event (the
  // process exited; jest fails the suite on one).
  it.each([
    ['a Content-Type that is not a media type (415)', 'POST', '/echo', { 'Content-Type': 'foo' }],
    ['a Content-Type no parser takes (415)', 'POST', '/echo', { 'Content-Type': 'image/png' }],
    ['a route that takes no body', 'GET', '/plain', { 'Content-Type': 'application/json' }],
  ])('survives a truncated gzip body nobody reads: %s, and the connection serves the next request', async (_name, method, path, headers) => {
    const first = await send(agent, port, method, path, { ...headers, 'Content-Encoding': 'gzip' }, truncatedGzip);
    expect(first.status).toBeLessThan(500);
    // The same keep-alive connection (maxSockets 1) goes on to its next request.
    expect((await send(agent, port, 'POST', '/echo', { 'Content-Type': 'application/json' }, json)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50)); // where the unhandled error used to surface
  });

  it('an unread gzip bomb is dropped, not inflated into memory, and the server answers on', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect((await send(agent, port, 'POST', '/echo', { 'Content-Type': 'foo', 'Content-Encoding': 'gzip' }, bomb)).status).toBe(415);
    expect((await send(agent, port, 'POST', '/echo', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bomb)).status).toBe(413);
    expect((await send(agent, port, 'GET', '/plain', {})).status).toBe(200);
  });
});
