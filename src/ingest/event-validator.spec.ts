import { EVENT_TYPES } from '../domain/events/event-types';
import { RejectReason, validateEvent } from './event-validator';

const ID = { userId: 'user-1' };

describe('validateEvent', () => {
  describe('accepts valid events of every type', () => {
    const valid: [string, string, Record<string, unknown>][] = [
      ['track with event and userId', 'track', { ...ID, event: 'Signed Up' }],
      ['track with anonymousId only', 'track', { anonymousId: 'anon-1', event: 'Viewed' }],
      ['identify with traits', 'identify', { ...ID, traits: { plan: 'pro' } }],
      ['page with name', 'page', { ...ID, name: 'Home' }],
      ['page without a name', 'page', { ...ID }],
      ['screen', 'screen', { anonymousId: 'a', name: 'Settings' }],
      ['group with groupId', 'group', { ...ID, groupId: 'g-1' }],
      ['alias with previousId', 'alias', { ...ID, previousId: 'old-id' }],
      ['numeric userId', 'identify', { userId: 42 }],
      ['numeric userId 0 (present, not missing)', 'identify', { userId: 0 }],
      ['numeric anonymousId', 'identify', { anonymousId: 7 }],
      ['numeric groupId', 'group', { ...ID, groupId: 99 }],
      ['numeric previousId', 'alias', { ...ID, previousId: 12 }],
      ['userId null but anonymousId set', 'track', { userId: null, anonymousId: 'a', event: 'x' }],
      ['userId empty but anonymousId set', 'track', { userId: '', anonymousId: 'a', event: 'x' }],
      ['date-only timestamp', 'track', { ...ID, event: 'x', timestamp: '2024-05-01' }],
      [
        'ISO timestamp with offset',
        'track',
        { ...ID, event: 'x', timestamp: '2024-05-01T10:20:30.123+02:00' },
      ],
      [
        'ISO timestamps in every field',
        'track',
        {
          ...ID,
          event: 'x',
          timestamp: '2024-05-01T10:20:30Z',
          originalTimestamp: '2024-05-01T10:20:29Z',
          sentAt: '2024-05-01T10:20:31Z',
        },
      ],
      [
        'null timestamps',
        'track',
        { ...ID, event: 'x', timestamp: null, sentAt: null, originalTimestamp: null },
      ],
      [
        'null properties/traits/context/integrations',
        'track',
        {
          ...ID,
          event: 'x',
          properties: null,
          traits: null,
          context: null,
          integrations: null,
        },
      ],
      [
        'nested objects',
        'track',
        {
          ...ID,
          event: 'x',
          properties: { a: { b: [1, 2] } },
          context: { ip: '1.2.3.4' },
          integrations: { All: false },
        },
      ],
      ['messageId of 255 characters', 'track', { ...ID, event: 'x', messageId: 'm'.repeat(255) }],
      [
        'unknown top-level fields',
        'track',
        { ...ID, event: 'x', custom: { any: 'thing' }, version: 2 },
      ],
      ['event.type matching the route type', 'track', { ...ID, event: 'x', type: 'track' }],
    ];
    it.each(valid)('%s', (_name, type, event) => {
      expect(validateEvent(event, type)).toBeNull();
    });
  });

  it('accepts every known type when its required fields are present', () => {
    const required: Record<string, Record<string, unknown>> = {
      track: { event: 'e' },
      group: { groupId: 'g' },
      alias: { previousId: 'p' },
    };
    for (const type of EVENT_TYPES) {
      expect(validateEvent({ ...ID, ...(required[type] ?? {}) }, type)).toBeNull();
    }
  });

  describe('rejects with the right reason', () => {
    const invalid: [string, unknown, string | undefined, RejectReason][] = [
      // shape of the event itself
      ['null', null, 'track', 'not_an_object'],
      ['a string', 'hello', 'track', 'not_an_object'],
      ['a number', 12, 'track', 'not_an_object'],
      ['an array', [{ ...ID, event: 'x' }], 'track', 'not_an_object'],
      // type
      ['no type (batch event without type)', { ...ID, event: 'x' }, undefined, 'invalid_type'],
      ['empty type', { ...ID, event: 'x' }, '', 'invalid_type'],
      ['unknown type', { ...ID, event: 'x' }, 'purchase', 'invalid_type'],
      ['type in wrong case', { ...ID, event: 'x' }, 'Track', 'invalid_type'],
      [
        'event.type not a known type',
        { ...ID, event: 'x', type: 'bogus' },
        'track',
        'invalid_field',
      ],
      // identity
      ['no userId nor anonymousId', { event: 'x' }, 'track', 'missing_identity'],
      ['both null', { userId: null, anonymousId: null, event: 'x' }, 'track', 'missing_identity'],
      [
        'both empty strings',
        { userId: '', anonymousId: '', event: 'x' },
        'track',
        'missing_identity',
      ],
      ['userId empty, anonymousId absent', { userId: '' }, 'identify', 'missing_identity'],
      ['anonymousId null, userId absent', { anonymousId: null }, 'page', 'missing_identity'],
      ['identity missing on alias', { previousId: 'p' }, 'alias', 'missing_identity'],
      ['userId a boolean', { userId: true, event: 'x' }, 'track', 'invalid_field'],
      ['userId an object', { userId: { id: 1 }, event: 'x' }, 'track', 'invalid_field'],
      [
        'userId longer than 1024',
        { userId: 'u'.repeat(1025), event: 'x' },
        'track',
        'invalid_field',
      ],
      // per-type required fields
      ['track without event', { ...ID }, 'track', 'missing_event'],
      ['track with null event', { ...ID, event: null }, 'track', 'missing_event'],
      ['track with empty event', { ...ID, event: '' }, 'track', 'missing_event'],
      ['track with numeric event', { ...ID, event: 5 }, 'track', 'invalid_field'],
      ['group without groupId', { ...ID }, 'group', 'missing_group_id'],
      ['group with null groupId', { ...ID, groupId: null }, 'group', 'missing_group_id'],
      ['group with empty groupId', { ...ID, groupId: '' }, 'group', 'missing_group_id'],
      ['alias without previousId', { ...ID }, 'alias', 'missing_previous_id'],
      ['alias with null previousId', { ...ID, previousId: null }, 'alias', 'missing_previous_id'],
      ['alias with empty previousId', { ...ID, previousId: '' }, 'alias', 'missing_previous_id'],
      // timestamps
      [
        'timestamp as epoch number',
        { ...ID, event: 'x', timestamp: 1714556400000 },
        'track',
        'invalid_field',
      ],
      [
        'timestamp as epoch string',
        { ...ID, event: 'x', timestamp: '1714556400' },
        'track',
        'invalid_field',
      ],
      [
        'timestamp not a date',
        { ...ID, event: 'x', timestamp: 'yesterday' },
        'track',
        'invalid_field',
      ],
      [
        'timestamp in US format',
        { ...ID, event: 'x', timestamp: '05/01/2024' },
        'track',
        'invalid_field',
      ],
      [
        'timestamp ISO-looking but unparseable',
        { ...ID, event: 'x', timestamp: '2024-13-45T99:00:00Z' },
        'track',
        'invalid_field',
      ],
      [
        'timestamp over 64 characters',
        { ...ID, event: 'x', timestamp: '2024-05-01T00:00:00' + '0'.repeat(60) + 'Z' },
        'track',
        'invalid_field',
      ],
      ['sentAt not a date', { ...ID, event: 'x', sentAt: 'now' }, 'track', 'invalid_field'],
      [
        'originalTimestamp not a date',
        { ...ID, event: 'x', originalTimestamp: 'abc' },
        'track',
        'invalid_field',
      ],
      // objects
      ['properties an array', { ...ID, event: 'x', properties: [1, 2] }, 'track', 'invalid_field'],
      ['properties a string', { ...ID, event: 'x', properties: 'a=b' }, 'track', 'invalid_field'],
      ['traits a number', { ...ID, traits: 3 }, 'identify', 'invalid_field'],
      ['context a string', { ...ID, event: 'x', context: 'web' }, 'track', 'invalid_field'],
      ['context an array', { ...ID, event: 'x', context: [] }, 'track', 'invalid_field'],
      [
        'integrations a boolean',
        { ...ID, event: 'x', integrations: true },
        'track',
        'invalid_field',
      ],
      // messageId
      ['messageId a number', { ...ID, event: 'x', messageId: 123 }, 'track', 'invalid_field'],
      ['messageId empty', { ...ID, event: 'x', messageId: '' }, 'track', 'invalid_field'],
      [
        'messageId of 256 characters',
        { ...ID, event: 'x', messageId: 'm'.repeat(256) },
        'track',
        'invalid_field',
      ],
      // text fields
      ['name an object', { ...ID, name: { first: 'a' } }, 'page', 'invalid_field'],
      ['event longer than 1024', { ...ID, event: 'e'.repeat(1025) }, 'track', 'invalid_field'],
    ];
    it.each(invalid)('%s', (_name, event, type, reason) => {
      const rejection = validateEvent(event, type);
      expect(rejection).not.toBeNull();
      expect(rejection!.reason).toBe(reason);
      expect(typeof rejection!.message).toBe('string');
      expect(rejection!.message.length).toBeGreaterThan(0);
    });
  });

  describe('messages name the problem', () => {
    it('names the offending field for a bad timestamp', () => {
      expect(validateEvent({ ...ID, event: 'x', sentAt: 'soon' }, 'track')?.message).toBe(
        'sentAt must be an ISO 8601 date-time string between the years 0001 and 9999',
      );
    });

    it('names the offending field for a wrong type', () => {
      expect(validateEvent({ ...ID, event: 'x', properties: [] }, 'track')?.message).toMatch(
        /^properties /,
      );
      expect(
        validateEvent({ ...ID, event: 'x', messageId: 'm'.repeat(256) }, 'track')?.message,
      ).toMatch(/^messageId /);
    });

    it('lists the known types for an unknown type', () => {
      const message = validateEvent({ ...ID }, 'purchase')?.message ?? '';
      for (const t of EVENT_TYPES) expect(message).toContain(t);
    });

    it('explains each missing required field', () => {
      expect(validateEvent({ event: 'x' }, 'track')?.message).toMatch(/userId or an anonymousId/);
      expect(validateEvent({ ...ID }, 'track')?.message).toMatch(/event/);
      expect(validateEvent({ ...ID }, 'group')?.message).toMatch(/groupId/);
      expect(validateEvent({ ...ID }, 'alias')?.message).toMatch(/previousId/);
    });
  });

  it('requires event only for track, groupId only for group, previousId only for alias', () => {
    for (const type of ['identify', 'page', 'screen'])
      expect(validateEvent({ ...ID }, type)).toBeNull();
    expect(validateEvent({ ...ID, event: 'x' }, 'group')?.reason).toBe('missing_group_id');
    expect(validateEvent({ ...ID, groupId: 'g' }, 'alias')?.reason).toBe('missing_previous_id');
    expect(validateEvent({ ...ID, previousId: 'p' }, 'track')?.reason).toBe('missing_event');
  });

  it('does not modify the event it validates', () => {
    const event = { ...ID, event: 'x', properties: { a: 1 }, timestamp: '2024-05-01T00:00:00Z' };
    const copy = JSON.parse(JSON.stringify(event));
    validateEvent(event, 'track');
    expect(event).toEqual(copy);
  });
});
