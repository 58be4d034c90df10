import Fastify, { FastifyInstance } from 'fastify';
import { AddressInfo, connect } from 'node:net';
import { answerClientError, answerFrameworkError } from './request-hooks';

/** Requests refused before any hook (by the router, by Node's HTTP parser) get the one error shape. */
describe('answers before the hooks', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = Fastify({ frameworkErrors: answerFrameworkError, clientErrorHandler: answerClientError, genReqId: () => 'req-1' });
    app.get('/v1/admin/keys/:id', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it.each([
    ['a path parameter whose escapes are not UTF-8', '/v1/admin/keys/%ED%A0%80', 400, 'invalid_url'],
    ['a path parameter longer than any id', `/v1/admin/keys/${'x'.repeat(500)}`, 414, 'url_too_long'],
  ])('%s', async (_name, url, status, reason) => {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(status);
    expect(res.headers['x-request-id']).toBe('req-1');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toMatchObject({ success: false, statusCode: status, message: expect.any(String), reason, requestId: 'req-1' });
  });

  /** Raw bytes on a socket: what Node's HTTP parser refuses never reaches Fastify's routing. */
  function raw(request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', (err) => (text ? resolve(text) : reject(err)));
    });
  }

  it.each([
    ['headers over the 16 KB limit', `GET /v1/admin/keys/x?${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ['bytes that are not HTTP', 'NOT HTTP AT ALL\r\n\r\n', 400],
  ])('%s: the error shape, and Connection: close (the server closes it)', async (_name, request, status) => {
    const text = await raw(request);
    const [head, body] = text.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(body)).toMatchObject({ success: false, statusCode: status, message: expect.any(String), reason: 'invalid_request' });
  });
});
