import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCommandFile } from './command-file';

describe('openCommandFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'calico-command-file-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a file without a name that a reader of /proc/self/fd/N sees whole', () => {
    const file = openCommandFile(dir);
    try {
      expect(readdirSync(dir)).toEqual([]);
      file.write('link set dev eth0 up\nlink show dev eth0\n');
      expect(readFileSync(`/proc/self/fd/${file.fd}`, 'utf8')).toBe(
        'link set dev eth0 up\nlink show dev eth0\n',
      );
    } finally {
      file.close();
      file.close();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
