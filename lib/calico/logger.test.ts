import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniError } from '../cni/errors';
import { createLogger, loggerFromNetConf, redact } from './logger';

let dir: string;
const mode = (path: string) => statSync(path).mode & 0o777;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logger-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('log file permissions', () => {
  it('creates the directories 0700 and the file 0600, whatever the umask', () => {
    const file = join(dir, 'a', 'b', 'cni.log');
    const old = process.umask(0);
    try {
      createLogger({ level: 'info', tag: 't', file }).info('hello');
    } finally {
      process.umask(old);
    }
    expect(mode(join(dir, 'a'))).toBe(0o700);
    expect(mode(join(dir, 'a', 'b'))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/\[INFO\]\[\d+\] t: hello\n$/);
  });

  it('tightens an existing world-readable file of ours, and leaves an existing directory alone', () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    const file = join(shared, 'cni.log');
    writeFileSync(file, 'old line\n', { mode: 0o644 });
    createLogger({ level: 'info', tag: 't', file }).info('new line');
    expect(mode(file)).toBe(0o600);
    expect(mode(shared)).toBe(0o755);
    expect(readFileSync(file, 'utf8')).toMatch(/^old line\n.*new line\n$/);
  });

  it('refuses to follow a symlink planted at the log path, and logs to stderr only', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'precious\n', { mode: 0o644 });
    const file = join(dir, 'cni.log');
    symlinkSync(target, file);
    const log = createLogger({ level: 'info', tag: 't', file });
    log.info('one');
    log.info('two');
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(mode(target)).toBe(0o644);
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
  });
});

describe('log rotation', () => {
  const rotation = { maxBytes: 1000, maxFiles: 3, maxAgeMs: 3600_000 };

  it('rotates at the size cap and keeps maxFiles rotated files, in order, all 0600', () => {
    const file = join(dir, 'cni.log');
    const log = createLogger({ level: 'info', tag: 't', file, rotation });
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
    for (const line of lines) log.info(line);
    const files = [`${file}.3`, `${file}.2`, `${file}.1`, file];
    for (const f of files) {
      expect(mode(f)).toBe(0o600);
      // A file stops growing on the first line past the cap.
      expect(statSync(f).size).toBeLessThan(1000 + 80);
    }
    expect(existsSync(`${file}.4`)).toBe(false);
    const kept = files
      .map((f) => readFileSync(f, 'utf8'))
      .join('')
      .trim()
      .split('\n')
      .map((l) => l.slice(l.indexOf('line ')));
    // The newest lines, none missing or out of order; the oldest were rotated out.
    expect(kept).toEqual(lines.slice(lines.length - kept.length));
    expect(kept.length).toBeGreaterThan(30);
    expect(kept.length).toBeLessThan(100);
  });

  it('rotates a file that is already full when a new process opens it', () => {
    const file = join(dir, 'cni.log');
    writeFileSync(file, 'x'.repeat(1200), { mode: 0o600 });
    createLogger({ level: 'info', tag: 't', file, rotation }).info('fresh');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('x'.repeat(1200));
    expect(readFileSync(file, 'utf8')).toMatch(/fresh\n$/);
  });

  it('deletes rotated files older than the age limit when it rotates', () => {
    const file = join(dir, 'cni.log');
    writeFileSync(`${file}.1`, 'ancient\n', { mode: 0o600 });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(`${file}.1`, twoHoursAgo, twoHoursAgo);
    writeFileSync(file, 'x'.repeat(1200), { mode: 0o600 });
    createLogger({ level: 'info', tag: 't', file, rotation }).info('fresh');
    expect(existsSync(`${file}.2`)).toBe(false);
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('x'.repeat(1200));
  });
});

describe('loggerFromNetConf', () => {
  it('takes Calico’s rotation keys (MB, count, days); absent or 0 means Calico’s defaults', () => {
    const file = join(dir, 'cni.log');
    writeFileSync(file, 'x'.repeat(1024 * 1024 + 1), { mode: 0o600 });
    loggerFromNetConf({ log_file_path: file, log_file_max_size: 1 }, { tag: 't' }).info('a');
    expect(existsSync(`${file}.1`)).toBe(true);
    rmSync(`${file}.1`);
    writeFileSync(file, 'x'.repeat(1024 * 1024 + 1), { mode: 0o600 });
    loggerFromNetConf({ log_file_path: file, log_file_max_size: 0 }, { tag: 't' }).info('b');
    expect(existsSync(`${file}.1`)).toBe(false);
  });

  it('refuses a rotation key of the wrong type with code 7', () => {
    expect(() => loggerFromNetConf({ log_file_max_count: '5' }, { tag: 't' })).toThrow(CniError);
  });
});

describe('redact', () => {
  const key = [
    '-----BEGIN PRIVATE KEY-----',
    'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET',
    '-----END PRIVATE KEY-----',
  ].join('\n');

  it('replaces PEM blocks, even a truncated one, by their label', () => {
    expect(redact(`bad key file: ${key} (cannot parse)`)).toBe(
      'bad key file: [redacted PRIVATE KEY] (cannot parse)',
    );
    expect(redact('-----BEGIN CERTIFICATE-----\nMIIB…')).toBe('[redacted CERTIFICATE]');
    expect(redact('no secrets here')).toBe('no secrets here');
  });

  it('keeps PEM contents out of the log file', () => {
    const file = join(dir, 'cni.log');
    createLogger({ level: 'debug', tag: 't', file }).error(`tls failed: ${key}`);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('[redacted PRIVATE KEY]');
    expect(text).not.toContain('SECRET');
  });
});
