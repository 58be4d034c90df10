import { AppConfig } from '../config';
import { generateKey, hashKey, parseKey } from '../domain/key-format';
import { KeyPrincipal } from '../domain/principal';
import { MetricsService } from '../metrics/metrics.service';
import { ApiKeysRepository } from './api-keys.repository';
import { CredentialsService } from './credentials.service';
import { KeyInvalidationService } from './key-invalidation.service';

/** CredentialsService against an in-memory key store (the repository is the only part faked). */
function service(perIp: number) {
  const key = generateKey('write');
  const principal = { id: 'k1', kind: 'write', sourceId: 's1' } as unknown as KeyPrincipal;
  let lookups = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const keys = {
    async findByKeyId(keyId: string) {
      lookups++;
      await gate; // the database answers only once every request has arrived
      return keyId === parseKey(key.key)!.keyId ? { hash: hashKey(key.key), active: true, principal } : null;
    },
  } as unknown as ApiKeysRepository;
  const config = { keyLookups: { perIp, perSecond: 1000 }, keyCacheTtlMs: 60_000 } as unknown as AppConfig;
  const refused: string[] = [];
  const metrics = { keyLookupsRefused: { inc: (l: { scope: string }) => refused.push(l.scope) } } as unknown as MetricsService;
  const invalidation = { onInvalidate: () => undefined } as unknown as KeyInvalidationService;
  const credentials = new CredentialsService(keys, config, metrics, invalidation);
  return { credentials, key: key.key, principal, release, lookups: () => lookups, refused };
}

describe('CredentialsService', () => {
  it('answers a burst of requests with the same unseen key with one lookup, charged once to the address', async () => {
    const s = service(5);
    const burst = Array.from({ length: 50 }, () => s.credentials.verify(s.key, '10.0.0.1'));
    s.release();
    const results = await Promise.all(burst);
    expect(results.every((r) => r === s.principal)).toBe(true);
    expect(s.lookups()).toBe(1);
    expect(s.refused).toEqual([]);
  });

  it('still limits different unseen keys from one address', async () => {
    const s = service(2);
    s.release();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => s.credentials.verify(generateKey('write').key, '10.0.0.2')),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(6); // a burst of 2 x perIp passes
    expect(s.refused.every((x) => x === 'ip')).toBe(true);
  });
});
