import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A stand-in for an OpenTelemetry Collector: accepts OTLP/HTTP trace exports and counts them.
 * It reads and drops the bodies without parsing them, so the bench's own process (which also
 * drives the load) spends as little as possible on what a collector elsewhere would do.
 */
export interface OtlpSink {
  url: string;
  stats(): { requests: number; bytes: number };
  stop(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, bytes }),
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
