// Server-Sent Events read from a fetch() body: EventSource cannot send the Authorization header,
// so the console parses the frames itself (text/event-stream, as the WHATWG spec defines them).

export interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

/** Feeds text chunks in, hands complete frames out; comment lines (": ping") are dropped. */
export class SseParser {
  private buf = '';

  push(chunk: string): SseFrame[] {
    this.buf += chunk;
    const frames: SseFrame[] = [];
    for (;;) {
      const m = /\r\n\r\n|\n\n|\r\r/.exec(this.buf);
      if (!m) break;
      const block = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const frame = parseBlock(block);
      if (frame) frames.push(frame);
    }
    return frames;
  }
}

function parseBlock(block: string): SseFrame | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let v = colon === -1 ? '' : line.slice(colon + 1);
    if (v.startsWith(' ')) v = v.slice(1);
    if (field === 'event') event = v;
    else if (field === 'data') data.push(v);
    else if (field === 'id') id = v;
  }
  if (data.length === 0) return null;
  return { event, data: data.join('\n'), id };
}
