import { renameSync, statSync, unlinkSync } from 'node:fs';
import type { LogRotation } from './logger';

// Rotation of the plugins' log file: `<file>` → `<file>.1` → … → `<file>.<maxFiles>`, the oldest
// dropped. Many plugin processes share the file and rotate without a lock: renames never lose a
// line (a process still holding the old file keeps appending to it under its new name), and two
// racing rotations at worst shift the files twice, pushing the oldest out early.

/** Rotates `file` now and deletes rotated files past the count or older than the age limit. */
export function rotateLogFiles(file: string, rotation: LogRotation): void {
  const now = Date.now();
  ignoreMissing(() => {
    unlinkSync(`${file}.${rotation.maxFiles}`);
  });
  for (let i = rotation.maxFiles - 1; i >= 1; i--) {
    ignoreMissing(() => {
      renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    });
  }
  ignoreMissing(() => {
    renameSync(file, `${file}.1`);
  });
  for (let i = 1; i <= rotation.maxFiles; i++) {
    ignoreMissing(() => {
      const rotated = `${file}.${i}`;
      if (now - statSync(rotated).mtimeMs > rotation.maxAgeMs) unlinkSync(rotated);
    });
  }
}

function ignoreMissing(step: () => void): void {
  try {
    step();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
