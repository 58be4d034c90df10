import http from 'node:http';
import { AddressInfo } from 'node:net';

/** For the specs: a fake Sluice on a free loopback port that answers with the handlers given. */
export type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

/** A fake target on a free loopback port; each request is answered by the next handler (the last one repeats). */
export async function fakeTarget(handlers: Handler[]): Promise<{
  url: URL;
  requests: { path: string; headers: http.IncomingHttpHeaders; body: Buffer }[];
  close: () => Promise<void>;
}> {
  const requests: { path: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      handlers[Math.min(requests.length - 1, handlers.length - 1)](req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, _body, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
