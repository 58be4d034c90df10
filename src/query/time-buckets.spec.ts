import { BadRequestException } from '@nestjs/common';
import { checkRange, checkTimeZone, offsetMinutes, rollupSpan } from './time-buckets';

const d = (s: string) => new Date(s);

describe('time buckets', () => {
  it('knows IANA zones and refuses others with a 400 naming tz', () => {
    expect(checkTimeZone(undefined)).toBe('UTC');
    expect(checkTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(BadRequestException);
  });

  it('reads offsets, DST included', () => {
    expect(offsetMinutes('Europe/Berlin', d('2026-07-01T12:00:00Z'))).toBe(120);
    expect(offsetMinutes('Europe/Berlin', d('2026-12-01T12:00:00Z'))).toBe(60);
    expect(offsetMinutes('Asia/Kolkata', d('2026-12-01T12:00:00Z'))).toBe(330);
    expect(offsetMinutes('America/New_York', d('2026-12-01T12:00:00Z'))).toBe(-300);
  });

  it('bounds ranges: ordered, and no more buckets than allowed', () => {
    expect(() => checkRange({ from: d('2026-01-02T00:00:00Z'), to: d('2026-01-01T00:00:00Z') }, 'hour', 100)).toThrow(/from must be before to/);
    expect(() => checkRange({ to: d('2026-01-01T00:00:00Z') }, 'hour', 100)).toThrow(/from is required/);
    expect(() => checkRange({ from: d('2026-01-01T00:00:00Z'), to: d('2026-01-05T00:00:01Z') }, 'hour', 96)).toThrow(/97 hour buckets; at most 96/);
    expect(checkRange({ from: d('2026-01-01T00:00:00Z'), to: d('2026-01-05T00:00:00Z') }, 'hour', 96).to).toEqual(d('2026-01-05T00:00:00Z'));
  });

  it('reads whole UTC hours from the rollup, except for minutes and half-hour zones', () => {
    const range = { from: d('2026-01-01T10:30:00Z'), to: d('2026-01-02T08:15:00Z') };
    expect(rollupSpan(range, 'hour', 'UTC')).toEqual({ from: d('2026-01-01T11:00:00Z'), to: d('2026-01-02T08:00:00Z') });
    expect(rollupSpan(range, 'day', 'Europe/Berlin')).toEqual({ from: d('2026-01-01T11:00:00Z'), to: d('2026-01-02T08:00:00Z') });
    expect(rollupSpan(range, 'minute', 'UTC')).toBeNull();
    expect(rollupSpan(range, 'day', 'Asia/Kolkata')).toBeNull();
    expect(rollupSpan({ from: d('2026-01-01T10:05:00Z'), to: d('2026-01-01T10:55:00Z') }, 'hour', 'UTC')).toBeNull();
  });
});
