import { waitForDrain } from '../support/drain';
import { createSource, startApp, TestApp, waitFor, withDb } from '../support/app';

/**
 * JOB_FORMAT only moves work between the api and the worker (docs/performance.md): the same
 * requests must end as the same rows whichever format the api writes.
 */
describe('job formats (JOB_FORMAT=rows and events store the same rows)', () => {
  const apps: Record<'rows' | 'events', TestApp | undefined> = {
    rows: undefined,
    events: undefined,
  };

  beforeAll(async () => {
    apps.rows = await startApp({ JOB_FORMAT: 'rows' });
    apps.events = await startApp({ JOB_FORMAT: 'events' });
  });
  afterAll(() => Promise.all(Object.values(apps).map((t) => t?.close())));

  const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

  // Everything enrichment touches: envelope context merged into each event, clock-skew correction,
  // generated message ids, text COPY must escape, deep values, every event type.
  const requests = [
    {
      path: '/v1/batch',
      body: {
        sentAt: minutesAgo(1),
        context: { library: { name: 'analytics-node', version: '2.1.0' }, locale: 'de-DE' },
        batch: [
          {
            type: 'track',
            userId: 'u-1',
            event: 'Order Completed',
            messageId: 'm-1',
            timestamp: minutesAgo(2),
            properties: {
              total: 12.5,
              items: [{ sku: 'a\tb', n: 2 }],
              note: 'line\nbreak \\ "quoted" ünïcödé 🚀',
            },
          },
          {
            type: 'identify',
            anonymousId: 'anon-1',
            messageId: 'm-2',
            traits: { email: 'a@example.com', nested: { deep: { deeper: [1, null, true] } } },
            context: { locale: 'fr-FR', ip: '203.0.113.9' },
          },
          {
            type: 'page',
            userId: 'u-1',
            name: 'Pricing',
            messageId: 'm-3',
            properties: { path: '/pricing', referrer: '' },
          },
          {
            type: 'group',
            userId: 'u-1',
            groupId: 'g-1',
            messageId: 'm-4',
            traits: { plan: 'team' },
          },
          {
            type: 'alias',
            userId: 'u-1',
            previousId: 'anon-1',
            messageId: 'm-5',
            custom: 'kept in extra',
          },
          { type: 'screen', userId: 'u-1', name: 'Home', messageId: 'm-6' },
        ],
      },
    },
    {
      path: '/v1/track',
      body: {
        userId: 'u-2',
        event: 'Signed Up',
        messageId: 'm-7',
        properties: { plan: null, empty: {} },
      },
    },
    { path: '/v1/track', body: { userId: 'u-3', event: 'No Id' } },
  ];

  async function ingest(t: TestApp): Promise<Record<string, unknown>[]> {
    const src = await createSource(t);
    for (const r of requests) {
      const res = await t.http.post(r.path).set('Authorization', basic(src.writeKey)).send(r.body);
      expect(res.status).toBe(200);
    }
    await waitForDrain(t.config.redis.prefix);
    const rows = await waitFor(
      () =>
        withDb(
          async (db) =>
            (await db.query('SELECT * FROM events WHERE source_id = $1', [src.id])).rows as Record<
              string,
              unknown
            >[],
        ),
      (r) => r.length === 8,
    );
    // What differs between the two by design: the source, when it arrived (and the timestamp
    // corrected from it), generated ids.
    return rows
      .map((row) => {
        const {
          source_id: _s,
          received_at: receivedAt,
          timestamp,
          message_id: messageId,
          ...rest
        } = row as Record<string, unknown> & { received_at: Date; timestamp: Date };
        return {
          ...rest,
          message_id: String(messageId).startsWith('api-') ? 'api-<generated>' : messageId,
          // Skew correction: timestamp = receivedAt - (sentAt - originalTimestamp) when sentAt is given.
          skewCorrected: Math.abs(receivedAt.getTime() - timestamp.getTime()) < 3 * 60_000,
        };
      })
      .sort((a, b) => String(a.message_id).localeCompare(String(b.message_id)));
  }

  it('stores the same rows, column by column', async () => {
    const [rows, events] = await Promise.all([ingest(apps.rows!), ingest(apps.events!)]);
    expect(rows).toHaveLength(8);
    expect(events).toEqual(rows);
    const order = rows.find((r) => r.message_id === 'm-1')!;
    expect(order.properties).toEqual({
      total: 12.5,
      items: [{ sku: 'a\tb', n: 2 }],
      note: 'line\nbreak \\ "quoted" ünïcödé 🚀',
    });
    expect(order.context).toMatchObject({
      library: { name: 'analytics-node' },
      locale: 'de-DE',
      ip: expect.any(String),
    });
    expect(rows.find((r) => r.message_id === 'm-2')!.context).toMatchObject({
      locale: 'fr-FR',
      ip: '203.0.113.9',
    });
    expect(rows.find((r) => r.message_id === 'm-5')!.extra).toEqual({ custom: 'kept in extra' });
  });
});
