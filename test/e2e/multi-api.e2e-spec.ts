import { ADMIN_TOKEN } from '../support/app';
import { uniqueName } from '../support/env';
import { startRole, stopRole, RoleProcess } from '../support/processes';
import { deleteRedisPrefix } from '../support/redis';

/** Two api processes sharing one Redis: limits hold on their combined traffic, revocations reach both. */
describe('two api replicas', () => {
  const prefix = uniqueName('ma');
  let apis: RoleProcess[];
  let adminKey: string;

  const call = async (api: RoleProcess, method: string, path: string, auth: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: body === undefined ? { Authorization: auth } : { Authorization: auth, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    apis = await Promise.all([startRole('api', prefix, { API_RATE_LIMIT_RPS: '0' }), startRole('api', prefix, { API_RATE_LIMIT_RPS: '0' })]);
    adminKey = (await call(apis[0], 'POST', '/v1/admin/keys', `Bearer ${ADMIN_TOKEN}`, { kind: 'admin' })).body.key;
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => stopRole(a)));
    await deleteRedisPrefix(prefix);
  });

  it('enforce one daily quota on their combined traffic, exactly', async () => {
    const src = (await call(apis[0], 'POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: 'quota' })).body;
    expect((await call(apis[1], 'PATCH', `/v1/admin/sources/${src.id}`, `Bearer ${adminKey}`, { dailyEventQuota: 300 })).status).toBe(200);
    const auth = `Basic ${Buffer.from(`${src.writeKey}:`).toString('base64')}`;
    let accepted = 0;
    let refused = 0;
    // 600 single events, 24 in flight, alternating between the two replicas.
    let next = 0;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < 600) {
          const i = next++;
          const res = await call(apis[i % 2], 'POST', '/v1/track', auth, { userId: 'u', event: 'q', messageId: `q-${i}` });
          if (res.status === 200) accepted++;
          else if (res.status === 429) refused++;
          else throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
        }
      }),
    );
    expect(accepted).toBe(300);
    expect(refused).toBe(300);
  });

  it('hold a requests/s limit across both (never more than the limit in any one-second window)', async () => {
    const src = (await call(apis[0], 'POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: 'rps' })).body;
    await call(apis[0], 'PATCH', `/v1/admin/sources/${src.id}`, `Bearer ${adminKey}`, { rateLimitRps: 20 });
    const auth = `Basic ${Buffer.from(`${src.writeKey}:`).toString('base64')}`;
    const acceptedAt: number[] = [];
    let refused = 0;
    const stopAt = Date.now() + 2500;
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < stopAt) {
          const n = i++;
          const res = await call(apis[n % 2], 'POST', '/v1/track', auth, { userId: 'u', event: 'r' });
          if (res.status === 200) acceptedAt.push(Number(res.body.accepted));
          else if (res.status === 429) refused++;
        }
      }),
    );
    // The limiter's windows are whole seconds; at most 4 of them fit in 2.5 s.
    expect(acceptedAt.length).toBeGreaterThan(0);
    expect(acceptedAt.length).toBeLessThanOrEqual(20 * 4);
    expect(refused).toBeGreaterThan(0);
  });

  it('refuse a key revoked through one replica on the other within 5 s', async () => {
    const src = (await call(apis[0], 'POST', '/v1/admin/sources', `Bearer ${adminKey}`, { name: 'revoke' })).body;
    const reader = (await call(apis[0], 'POST', '/v1/admin/keys', `Bearer ${adminKey}`, { kind: 'read', sourceIds: [src.id] })).body;
    // The second replica has verified (and cached) the key.
    expect((await call(apis[1], 'GET', `/v1/sources/${src.id}/events`, `Bearer ${reader.key}`)).status).toBe(200);
    expect((await call(apis[0], 'POST', `/v1/admin/keys/${reader.id}/revoke`, `Bearer ${adminKey}`)).status).toBe(200);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 5000) {
      status = (await call(apis[1], 'GET', `/v1/sources/${src.id}/events`, `Bearer ${reader.key}`)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
  });
});
