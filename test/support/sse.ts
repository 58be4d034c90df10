import type { INestApplication } from '@nestjs/common';

/** One Server-Sent Events message (a `: comment` line alone is a message with `comment` set). */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
  comment?: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The JSON error body when the answer is not a stream (status other than 200). */
  body?: any;
  /** Everything received so far, in order. */
  messages: SseMessage[];
  /** The next message not yet taken (comments included when `comments`), or a rejection after `timeoutMs`. */
  next(timeoutMs?: number, comments?: boolean): Promise<SseMessage>;
  /** Every message of this event type received within `ms` (from now). */
  collect(event: string, ms: number): Promise<SseMessage[]>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/** The app listening on a local port (listens once), for clients that stream: fetch, not supertest. */
export async function baseUrl(app: INestApplication): Promise<string> {
  const server = app.getHttpServer() as import('node:http').Server;
  if (!server.listening) await app.listen(0, '127.0.0.1');
  const address = server.address() as import('node:net').AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** Opens a stream the way the console does: fetch with the key in the Authorization header, the body read as it comes. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the test shows the text
    }
    const done = Promise.resolve();
    return { status: res.status, headers: res.headers, body, messages: [], next: () => Promise.reject(new Error(`no stream (${res.status})`)), collect: async () => [], ended: done, close() {} };
  }
  const messages: SseMessage[] = [];
  let taken = 0;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          messages.push(parse(buf.slice(0, at)));
          buf = buf.slice(at + 2);
          wake();
        }
      }
    } catch {
      // aborted by close()
    }
    wake();
  })();
  let finished = false;
  void ended.then(() => (finished = true));
  const next = (timeoutMs = 5000, comments = false): Promise<SseMessage> =>
    new Promise((resolve, reject) => {
      const check = () => {
        while (taken < messages.length) {
          const m = messages[taken++];
          if (comments || m.comment === undefined) {
            finish();
            resolve(m);
            return;
          }
        }
        if (finished) {
          finish();
          reject(new Error('the stream ended'));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no SSE message within ${timeoutMs} ms (received: ${JSON.stringify(messages)})`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const collect = async (event: string, ms: number) => {
    const from = messages.length;
    await new Promise((r) => setTimeout(r, ms));
    return messages.slice(from).filter((m) => m.event === event);
  };
  return { status: res.status, headers: res.headers, messages, next, collect, ended, close: () => abort.abort() };
}

function parse(block: string): SseMessage {
  const m: SseMessage = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) m.comment = line.slice(1).trim();
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const field = line.slice(0, at);
    const value = line.slice(at + 1).replace(/^ /, '');
    if (field === 'event') m.event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') m.id = value;
  }
  m.data = data.join('\n');
  return m;
}
