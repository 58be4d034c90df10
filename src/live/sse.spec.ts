import { SSE_PING, sseFrame } from './sse';

describe('SSE frames', () => {
  it('writes event and data, with an id when given, ended by a blank line', () => {
    expect(sseFrame('hello', '{"sourceId":"s","maxEventsPerSecond":50}')).toBe('event: hello\ndata: {"sourceId":"s","maxEventsPerSecond":50}\n\n');
    expect(sseFrame('event', '{"a":1}', 'm-1')).toBe('id: m-1\nevent: event\ndata: {"a":1}\n\n');
    expect(SSE_PING).toBe(': ping\n\n');
  });

  it('keeps one frame whatever the messageId holds (data is JSON, never a raw newline)', () => {
    const data = JSON.stringify({ messageId: 'a\nb', payload: { text: 'line1\nline2\r\n' } });
    const frame = sseFrame('event', data, 'a\nb\r\0');
    expect(frame.split('\n\n')).toHaveLength(2);
    expect(frame.split('\n')).toHaveLength(5); // id, event, data, blank, ''
    expect(frame.startsWith('id: a b  \nevent: event\n')).toBe(true);
  });
});
