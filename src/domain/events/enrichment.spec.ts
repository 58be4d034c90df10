import { QueuedEvent } from '../../queue/queue.constants';
import { correctTimestamp } from './timestamps';
import { toEventRow } from './enrichment';

const RECEIVED = '2024-05-01T12:00:00.000Z';
const SOURCE = '11111111-1111-4111-8111-111111111111';

function queued(e: Record<string, unknown>, extra: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    s: SOURCE,
    t: RECEIVED,
    e: { type: 'track', messageId: 'm-1', userId: 'u-1', event: 'E', ...e },
    ...extra,
  };
}

describe('correctTimestamp', () => {
  const received = Date.parse('2024-05-01T12:00:00.000Z');

  it('applies timestamp = receivedAt - (sentAt - originalTimestamp)', () => {
    // The client clock is 1 hour behind; the event happened 5 s before it was sent.
    const original = Date.parse('2024-05-01T10:59:50.000Z');
    const sentAt = Date.parse('2024-05-01T10:59:55.000Z');
    expect(correctTimestamp(received, original, sentAt)).toBe(received - 5000);
  });

  it('corrects a client clock that runs ahead just as well', () => {
    const original = Date.parse('2030-01-01T00:00:00.000Z');
    const sentAt = original + 1234;
    expect(correctTimestamp(received, original, sentAt)).toBe(received - 1234);
  });

  it('keeps the receivedAt when the client sent the event the moment it happened', () => {
    const t = Date.parse('2020-01-01T00:00:00.000Z');
    expect(correctTimestamp(received, t, t)).toBe(received);
  });

  it('keeps the client time when there is no sentAt', () => {
    const original = Date.parse('2024-04-30T08:00:00.000Z');
    expect(correctTimestamp(received, original, null)).toBe(original);
  });

  it('uses receivedAt when there is no client time', () => {
    expect(correctTimestamp(received, null, null)).toBe(received);
    expect(correctTimestamp(received, null, Date.parse('2024-01-01T00:00:00Z'))).toBe(received);
  });
});

describe('toEventRow', () => {
  it('maps Segment fields to columns', () => {
    const row = toEventRow(
      queued({
        type: 'group',
        messageId: 'msg-9',
        event: null,
        name: 'Page',
        userId: 'u',
        anonymousId: 'a',
        groupId: 'g',
        previousId: 'p',
        properties: { price: 1 },
        traits: { plan: 'pro' },
        context: { library: { name: 'analytics.js' } },
        integrations: { All: true },
      }),
    );
    expect(row).toMatchObject({
      source_id: SOURCE,
      message_id: 'msg-9',
      type: 'group',
      event: null,
      name: 'Page',
      user_id: 'u',
      anonymous_id: 'a',
      group_id: 'g',
      previous_id: 'p',
      received_at: RECEIVED,
      properties: { price: 1 },
      traits: { plan: 'pro' },
      context: { library: { name: 'analytics.js' } },
      integrations: { All: true },
      extra: null,
    });
  });

  it('stores absent optional objects and ids as null', () => {
    const row = toEventRow({
      s: SOURCE,
      t: RECEIVED,
      e: { type: 'identify', messageId: 'm', anonymousId: 'a' },
    });
    expect(row.user_id).toBeNull();
    expect(row.event).toBeNull();
    expect(row.name).toBeNull();
    expect(row.group_id).toBeNull();
    expect(row.previous_id).toBeNull();
    expect(row.properties).toBeNull();
    expect(row.traits).toBeNull();
    expect(row.context).toBeNull();
    expect(row.integrations).toBeNull();
    expect(row.extra).toBeNull();
  });

  it('coerces numeric ids and messageId to strings, empty strings to null', () => {
    const row = toEventRow(
      queued({ userId: 42, anonymousId: '', groupId: 0, previousId: 7, messageId: 123 }),
    );
    expect(row.user_id).toBe('42');
    expect(row.anonymous_id).toBeNull();
    expect(row.group_id).toBe('0');
    expect(row.previous_id).toBe('7');
    expect(row.message_id).toBe('123');
  });

  describe('timestamps', () => {
    it('corrects clock skew from originalTimestamp and sentAt', () => {
      const row = toEventRow(
        queued({
          originalTimestamp: '2024-05-01T09:00:00.000Z',
          sentAt: '2024-05-01T09:00:02.500Z',
        }),
      );
      expect(row.timestamp).toBe('2024-05-01T11:59:57.500Z');
      expect(row.original_timestamp).toBe('2024-05-01T09:00:00.000Z');
      expect(row.sent_at).toBe('2024-05-01T09:00:02.500Z');
      expect(row.received_at).toBe(RECEIVED);
    });

    it('treats the SDK timestamp as the client time when originalTimestamp is absent', () => {
      const row = toEventRow(
        queued({ timestamp: '2024-05-01T09:00:00.000Z', sentAt: '2024-05-01T09:00:01.000Z' }),
      );
      expect(row.timestamp).toBe('2024-05-01T11:59:59.000Z');
      expect(row.original_timestamp).toBe('2024-05-01T09:00:00.000Z');
    });

    it("with both (RudderStack's Node SDK), timestamp is the event's time and originalTimestamp is kept", () => {
      const row = toEventRow(
        queued({
          timestamp: '2024-05-01T08:00:00.000Z',
          originalTimestamp: '2024-05-01T09:00:00.000Z',
          sentAt: '2024-05-01T09:00:10.000Z',
        }),
      );
      expect(row.original_timestamp).toBe('2024-05-01T09:00:00.000Z');
      // The client clock is 3 h minus 10 s behind: the correction applies to the event's time.
      expect(row.timestamp).toBe('2024-05-01T10:59:50.000Z');
    });

    it('falls back to timestamp when originalTimestamp is unparseable', () => {
      const row = toEventRow(
        queued({ originalTimestamp: 'garbage', timestamp: '2024-04-01T00:00:00.000Z' }),
      );
      expect(row.original_timestamp).toBe('2024-04-01T00:00:00.000Z');
      expect(row.timestamp).toBe('2024-04-01T00:00:00.000Z');
    });

    it('keeps the client time without sentAt', () => {
      const row = toEventRow(queued({ timestamp: '2024-04-01T10:00:00+02:00' }));
      expect(row.timestamp).toBe('2024-04-01T08:00:00.000Z');
      expect(row.sent_at).toBeNull();
    });

    it('uses receivedAt when the client gives no time', () => {
      const row = toEventRow(queued({ sentAt: '2024-05-01T09:00:00.000Z' }));
      expect(row.timestamp).toBe(RECEIVED);
      expect(row.original_timestamp).toBeNull();
      expect(row.sent_at).toBe('2024-05-01T09:00:00.000Z');
    });

    it('falls back to receivedAt when the corrected time is out of range', () => {
      // receivedAt - (sentAt - original) lands about 8 000 years before year 0.
      const row = toEventRow(
        queued({
          originalTimestamp: '0001-01-01T00:00:00.000Z',
          sentAt: '9999-12-31T00:00:00.000Z',
        }),
      );
      expect(row.timestamp).toBe(RECEIVED);
    });
  });

  describe('context.ip', () => {
    it('is filled from the request when the event has no context', () => {
      expect(toEventRow(queued({}, { ip: '10.0.0.1' })).context).toEqual({ ip: '10.0.0.1' });
    });

    it('is added to an existing context without losing its fields', () => {
      const context = { library: { name: 'x' } };
      const row = toEventRow(queued({ context }, { ip: '10.0.0.1' }));
      expect(row.context).toEqual({ library: { name: 'x' }, ip: '10.0.0.1' });
      expect(context).toEqual({ library: { name: 'x' } });
    });

    it('is filled when the event has context.ip null', () => {
      expect(toEventRow(queued({ context: { ip: null } }, { ip: '10.0.0.1' })).context).toEqual({
        ip: '10.0.0.1',
      });
    });

    it('keeps the client-provided ip', () => {
      expect(
        toEventRow(queued({ context: { ip: '8.8.8.8' } }, { ip: '10.0.0.1' })).context,
      ).toEqual({ ip: '8.8.8.8' });
    });

    it('is left alone when the api saw no ip', () => {
      expect(toEventRow(queued({})).context).toBeNull();
      expect(toEventRow(queued({ context: { a: 1 } })).context).toEqual({ a: 1 });
    });
  });

  describe('extra', () => {
    it('keeps unknown top-level fields and nothing else', () => {
      const row = toEventRow(
        queued({
          version: 2,
          channel: 'server',
          _metadata: { bundled: ['x'] },
          properties: { a: 1 },
        }),
      );
      expect(row.extra).toEqual({ version: 2, channel: 'server', _metadata: { bundled: ['x'] } });
    });

    it('does not duplicate column fields (receivedAt included)', () => {
      const row = toEventRow(
        queued({
          timestamp: '2024-05-01T00:00:00Z',
          originalTimestamp: '2024-05-01T00:00:00Z',
          sentAt: '2024-05-01T00:00:00Z',
          receivedAt: '2024-05-01T00:00:00Z',
          anonymousId: 'a',
          groupId: 'g',
          previousId: 'p',
          name: 'n',
          traits: {},
          context: {},
          integrations: {},
        }),
      );
      expect(row.extra).toBeNull();
    });
  });
});
