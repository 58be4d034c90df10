import { parseArgs, splitFlags, UsageError } from './args';

const base = ['--url', 'https://sluice.example.com', '--write-key', 'sk_write_x'];
const SOURCE = '908565dc-ae45-4346-bcf3-c87fb7144f2c';

describe('parseArgs', () => {
  it('takes the required flags and fills the defaults', () => {
    const o = parseArgs(base)!;
    expect(o.url.href).toBe('https://sluice.example.com/');
    expect(o).toMatchObject({
      writeKey: 'sk_write_x',
      profile: 'smoke',
      maxInFlight: 64,
      timeoutMs: 10_000,
      maxRetries: 3,
      batchShare: 0.2,
      batchSize: 20,
      gzip: true,
    });
    expect(o.readKey).toBeUndefined();
    expect(o.runId).toMatch(/^lt-[a-z0-9]+-[0-9a-f]{6}$/);
  });

  it('reads --name=value, switches and overrides', () => {
    const o = parseArgs([
      ...base,
      '--profile=stress',
      '--rate',
      '40',
      '--duration=15',
      '--no-gzip',
      '--p99-ms',
      '0.001',
      '--read-key',
      'sk_read_y',
      '--source-id',
      SOURCE,
      '--verify-sample',
      '0.5',
      '--out',
      'r.json',
    ])!;
    expect(o).toMatchObject({
      profile: 'stress',
      gzip: false,
      readKey: 'sk_read_y',
      sourceId: SOURCE,
      out: 'r.json',
    });
    expect(o.overrides).toMatchObject({
      rate: 40,
      durationS: 15,
      verifySample: 0.5,
      thresholds: { p99Ms: 0.001 },
    });
  });

  it('falls back to the keys the CLI read from the environment, flags first', () => {
    expect(parseArgs(['--url', 'http://localhost:3000'], { writeKey: 'env-w' })!.writeKey).toBe(
      'env-w',
    );
    expect(parseArgs(base, { writeKey: 'env-w' })!.writeKey).toBe('sk_write_x');
    expect(parseArgs([...base, '--source-id', SOURCE], { readKey: 'env-r' })!.readKey).toBe(
      'env-r',
    );
  });

  it('answers null for --help', () => {
    expect(parseArgs(['--help'])).toBeNull();
  });

  it.each([
    [[], '--url is required'],
    [['--url', 'http://x'], '--write-key is required'],
    [['--url', 'not a url', '--write-key', 'k'], '--url is not a URL'],
    [['--url', 'ftp://x', '--write-key', 'k'], '--url must be http:// or https://'],
    [[...base, '--profile', 'spike'], '--profile must be one of smoke, load, stress, soak'],
    [[...base, '--rate', '0'], '--rate must be a positive number'],
    [[...base, '--rate', 'fast'], '--rate must be a positive number'],
    [[...base, '--batch-share', '1.5'], '--batch-share must be a share between 0 and 1'],
    [[...base, '--max-in-flight', '2.5'], '--max-in-flight must be a whole number'],
    [[...base, '--read-key', 'r'], '--source-id is required with --read-key'],
    [[...base, '--source-id', 'abc'], '--source-id must be a source'],
    [[...base, '--bogus', '1'], 'unknown option --bogus'],
    [[...base, 'extra'], 'unexpected argument "extra"'],
    [[...base, '--url', 'http://y'], '--url given twice'],
    [[...base, '--out'], '--out needs a value'],
    [[...base, '--out', '--no-gzip'], '--out needs a value'],
    [[...base, '--no-gzip=1'], '--no-gzip takes no value'],
    [[...base, '--run-id', 'has space'], '--run-id may hold'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseArgs(argv as string[])).toThrow(message);
  });

  it('splitFlags keeps values that contain "="', () => {
    expect(splitFlags(['--url=http://x/?a=b']).get('url')).toBe('http://x/?a=b');
  });
});
