import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateKeyDto } from './sources.dto';

const problems = async (body: object) => (await validate(plainToInstance(CreateKeyDto, body), { whitelist: true, forbidNonWhitelisted: true })).map((e) => e.property);

describe('CreateKeyDto', () => {
  it('wants the UUID of a source for a write key', async () => {
    expect(await problems({ kind: 'write', sourceId: '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21' })).toEqual([]);
    expect(await problems({ kind: 'write' })).toEqual(['sourceId']);
    expect(await problems({ kind: 'write', sourceId: 'web' })).toEqual(['sourceId']);
  });

  // A falsy sourceId on another kind passed the service's "only write keys are bound to a source"
  // check and reached the uuid column (a database data error: 400 invalid_data, logged as a bug).
  it.each([0, '', false, 1, 'web', [], {}])('checks a sourceId given with any other kind (%p)', async (sourceId) => {
    expect(await problems({ kind: 'admin', sourceId })).toEqual(['sourceId']);
    expect(await problems({ kind: 'read', sourceId })).toEqual(['sourceId']);
  });

  it('lets other kinds leave sourceId out, or null', async () => {
    expect(await problems({ kind: 'admin' })).toEqual([]);
    expect(await problems({ kind: 'read', sourceId: null })).toEqual([]);
  });
});
