import { gunzipSync } from 'node:zlib';
import { Traffic } from './traffic';

describe('Traffic', () => {
  it('mixes singles on their own routes and batches in the asked share, with unique messageIds', () => {
    const t = new Traffic({ runId: 'r', batchShare: 0.2, batchSize: 5, gzip: false });
    const paths = new Map<string, number>();
    const ids = new Set<string>();
    for (let k = 0; k < 1000; k++) {
      const req = t.request(k);
      paths.set(req.path, (paths.get(req.path) ?? 0) + 1);
      const body = JSON.parse(req.body.toString()) as Record<string, unknown>;
      if (req.path !== '/v1/batch') {
        expect(body.type).toBeUndefined();
        expect(body.messageId).toBe(req.messageIds[0]);
      }
      for (const id of req.messageIds) ids.add(id);
    }
    expect(paths.get('/v1/batch')).toBe(200);
    expect(
      paths.get('/v1/track')! +
        paths.get('/v1/page')! +
        paths.get('/v1/identify')! +
        paths.get('/v1/group')!,
    ).toBe(800);
    expect(paths.get('/v1/track')!).toBeGreaterThan(paths.get('/v1/page')!);
    expect(ids.size).toBe(800 + 200 * 5);
  });

  it('sends no batch at share 0 and only batches at 1', () => {
    const none = new Traffic({ runId: 'r', batchShare: 0, batchSize: 5, gzip: false });
    const all = new Traffic({ runId: 'r', batchShare: 1, batchSize: 5, gzip: false });
    for (let k = 0; k < 100; k++) {
      expect(none.isBatch(k)).toBe(false);
      expect(all.isBatch(k)).toBe(true);
    }
  });

  it('sends gzip bodies that decompress to the JSON', () => {
    const t = new Traffic({ runId: 'run1', batchShare: 1, batchSize: 3, gzip: true });
    const r = t.request(0, Date.parse('2026-12-03T10:00:00Z'));
    const body = JSON.parse(gunzipSync(r.body).toString()) as {
      batch: { messageId: string; context: { loadtest: { run: string } } }[];
      sentAt: string;
    };
    expect(r.path).toBe('/v1/batch');
    expect(body.batch.map((e) => e.messageId)).toEqual(['run1-0', 'run1-1', 'run1-2']);
    expect(r.messageIds).toEqual(['run1-0', 'run1-1', 'run1-2']);
    expect(body.batch.every((e) => e.context.loadtest.run === 'run1')).toBe(true);
    expect(body.sentAt).toBe('2026-12-03T10:00:00.000Z');
  });
});
