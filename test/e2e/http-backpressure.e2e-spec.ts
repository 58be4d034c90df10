import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { countEvents, createSource, startApp, TestApp, waitFor } from '../support/app';

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** A batch body of about `bytes` bytes, `n` events with the given id prefix. */
function batchBody(prefix: string, n: number, bytes: number): string {
  // Hex of random bytes: compresses about 2:1, as real events do roughly.
  const pad = () => randomBytes(Math.max(0, Math.floor((bytes / n - 120) / 2))).toString('hex');
  return JSON.stringify({ batch: Array.from({ length: n }, (_, i) => ({ type: 'track', userId: 'u', event: 'bp', messageId: `${prefix}-${i}`, properties: { pad: pad() } })) });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** One HTTP/1.1 request over a socket of its own, its body written in the given parts. */
class RawRequest {
  private readonly socket: Socket;
  private data = '';
  readonly answered: Promise<Answer>;
  private settled = false;

  constructor(port: number, head: string) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.answered = new Promise((resolve, reject) => {
      this.socket.on('data', (chunk: string) => {
        this.data += chunk;
        const end = this.data.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [statusLine, ...lines] = this.data.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const rest = this.data.slice(end + 4);
        if (rest.length < Number(headers['content-length'] ?? 0)) return;
        this.settled = true;
        resolve({ status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(rest) as Record<string, unknown> });
      });
      this.socket.on('error', (err) => (this.settled ? undefined : reject(err)));
    });
    this.socket.write(head);
  }

  write(part: string | Buffer): void {
    this.socket.write(part);
  }

  get isAnswered(): boolean {
    return this.settled;
  }

  close(): void {
    this.socket.destroy();
  }
}

function head(writeKey: string, length: number, extra = ''): string {
  return `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic(writeKey)}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

describe('HTTP backpressure: a bound on the bytes of request bodies in flight', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startApp({ MAX_BYTES_IN_FLIGHT: '50000', BYTES_IN_FLIGHT_WAIT_MS: '1500' });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => t.close());

  const metric = async (outcome: string) => {
    const text = (await t.http.get('/metrics')).text;
    return Number(new RegExp(`^sluice_http_backpressure_waits_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  };

  it('holds a request while others fill the budget, then stores it; refuses with 503 server_busy only after the wait', async () => {
    const src = await createSource(t);
    // A slow client: 40 kB declared, half sent. It holds 40 of the 50 kB while its body trickles in.
    const slowBody = batchBody('slow', 20, 40_000);
    const slow = new RawRequest(port, head(src.writeKey, Buffer.byteLength(slowBody)));
    slow.write(slowBody.slice(0, 20_000));
    await new Promise((r) => setTimeout(r, 200));

    // 30 kB more does not fit: it waits unread, and after 1.5 s it is refused, with a reason.
    const refusedBody = batchBody('refused', 10, 30_000);
    const refused = new RawRequest(port, head(src.writeKey, Buffer.byteLength(refusedBody)));
    refused.write(refusedBody);
    // Held first (well inside its 1.5 s wait), refused only then.
    await new Promise((r) => setTimeout(r, 300));
    expect(refused.isAnswered).toBe(false);
    const answer = await refused.answered;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.body).toMatchObject({ statusCode: 503, reason: 'server_busy' });
    expect(String(answer.body.message)).toMatch(/MAX_BYTES_IN_FLIGHT/);
    refused.close();
    expect(await metric('refused')).toBeGreaterThanOrEqual(1);

    // Another waits; the slow client finishes; the waiting one is let in and stored.
    const waitingBody = batchBody('waiting', 10, 30_000);
    const waiting = new RawRequest(port, head(src.writeKey, Buffer.byteLength(waitingBody)));
    waiting.write(waitingBody);
    await new Promise((r) => setTimeout(r, 300));
    expect(waiting.isAnswered).toBe(false);
    slow.write(slowBody.slice(20_000));
    expect((await slow.answered).status).toBe(200);
    const admitted = await waiting.answered;
    expect(admitted.status).toBe(200);
    expect(admitted.body.accepted).toBe(10);
    slow.close();
    waiting.close();
    expect(await metric('admitted')).toBeGreaterThanOrEqual(1);
    await waitFor(() => countEvents(src.id), (n) => n === 30);
  });

  it('gives the budget back when a client goes away mid-body', async () => {
    const src = await createSource(t);
    const body = batchBody('gone', 20, 45_000);
    const gone = new RawRequest(port, head(src.writeKey, Buffer.byteLength(body)));
    gone.write(body.slice(0, 10_000));
    await new Promise((r) => setTimeout(r, 200));
    gone.close();
    // Were the 45 kB still counted, this 30 kB request would wait and be refused.
    const next = await t.http.post('/v1/batch').set('Authorization', basic(src.writeKey)).send(batchBody('after', 10, 30_000)).set('Content-Type', 'application/json');
    expect(next.status).toBe(200);
    const gauge = Number(/^sluice_http_bytes_in_flight (\d+)/m.exec((await t.http.get('/metrics')).text)?.[1]);
    expect(gauge).toBe(0);
  });

  it('counts a compressed body at ten times its length, and lets one larger than the budget through alone', async () => {
    const src = await createSource(t);
    // ~100 kB of gzip counts the most a body may be (MAX_REQUEST_BYTES): more than the whole budget, so it runs only with nothing else in flight.
    const gz = gzipSync(batchBody('gz', 20, 200_000), { level: 1 });
    expect(gz.length * 10).toBeGreaterThan(50_000);
    const alone = new RawRequest(port, head(src.writeKey, gz.length, 'Content-Encoding: gzip\r\n'));
    alone.write(gz);
    expect((await alone.answered).body).toMatchObject({ accepted: 20 });
    alone.close();

    // While a slow plain request holds 10 kB, the compressed one waits and is refused.
    const slowBody = batchBody('slow2', 5, 10_000);
    const slow = new RawRequest(port, head(src.writeKey, Buffer.byteLength(slowBody)));
    slow.write(slowBody.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 200));
    const blocked = new RawRequest(port, head(src.writeKey, gz.length, 'Content-Encoding: gzip\r\n'));
    blocked.write(gz);
    expect((await blocked.answered).status).toBe(503);
    blocked.close();
    slow.write(slowBody.slice(1000));
    expect((await slow.answered).status).toBe(200);
    slow.close();
  });

  it('does not hold other routes: health, metrics and the admin API answer while ingestion waits', async () => {
    const src = await createSource(t);
    const body = batchBody('hold', 20, 49_000);
    const hold = new RawRequest(port, head(src.writeKey, Buffer.byteLength(body)));
    hold.write(body.slice(0, 100));
    await new Promise((r) => setTimeout(r, 200));
    expect((await t.http.get('/health/live')).status).toBe(200);
    expect((await t.http.get('/v1/admin/sources').set('Authorization', `Bearer ${t.adminKey}`)).status).toBe(200);
    hold.write(body.slice(100));
    expect((await hold.answered).status).toBe(200);
    hold.close();
  });
});
