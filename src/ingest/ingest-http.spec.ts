import Fastify from 'fastify';
import type { MetricsService } from '../metrics/metrics.service';
import { bodyWeight, registerIngestHttp } from './ingest-http';

describe('registerIngestHttp', () => {
  const app = Fastify();
  registerIngestHttp(app, { eventsRejected: { inc() {} } } as unknown as MetricsService);
  app.post('/v1/track', async (req) => ({ got: req.body }));
  app.post('/v1/admin/sources', async (req) => ({ got: req.body }));
  beforeAll(() => app.ready());
  afterAll(() => app.close());

  const post = (url: string, contentType: string | undefined) =>
    app.inject({ method: 'POST', url, headers: contentType === undefined ? {} : { 'content-type': contentType }, payload: '{"userId":"u"}' });

  it.each([undefined, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'image/png', '', 'foo', 'json', 'a/b/c', ';'])(
    'reads an ingestion body as JSON whatever its Content-Type says (%p)',
    async (contentType) => {
      const res = await post('/v1/track', contentType);
      expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 200, body: { got: { userId: 'u' } } });
    },
  );

  it.each(['text/plain', 'foo', ''])('leaves other routes to want JSON (%p: 415)', async (contentType) => {
    expect((await post('/v1/admin/sources', contentType)).statusCode).toBe(415);
  });
});

describe('bodyWeight', () => {
  const max = 512_000;
  it('is the Content-Length of a plain body', () => {
    expect(bodyWeight({ 'content-length': '1200' }, max)).toBe(1200);
    expect(bodyWeight({ 'content-length': '1200', 'content-encoding': 'identity' }, max)).toBe(1200);
  });
  it('is ten times the length of a compressed body, at most the largest body allowed', () => {
    expect(bodyWeight({ 'content-length': '1200', 'content-encoding': 'gzip' }, max)).toBe(12_000);
    expect(bodyWeight({ 'content-length': '100000', 'content-encoding': 'deflate' }, max)).toBe(max);
  });
  it('is the largest body allowed when the length is unknown or nonsense', () => {
    expect(bodyWeight({ 'transfer-encoding': 'chunked' }, max)).toBe(max);
    expect(bodyWeight({ 'content-length': 'abc' }, max)).toBe(max);
    expect(bodyWeight({ 'content-length': '9999999' }, max)).toBe(max);
  });
});
