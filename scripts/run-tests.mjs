// `npm test`: every tier in order, then one closing line `N passed, N failed, N skipped` that
// counts the vitest tests and the conformance items together. Exit 1 if any step failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'run-tests-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps = [];

function step(name, command, args, options = {}) {
  console.log(`\n=== ${name}: ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, {
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (options.capture) process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) failedSteps.push(name);
  return r.stdout ?? '';
}

step('typecheck', 'npx', ['tsc', '--noEmit']);
step('lint', 'npx', ['eslint', '.']);
step('format', 'npx', ['prettier', '--check', '.']);
step('build', 'node', ['scripts/build.mjs', '--sea']);

const vitestJson = join(work, 'vitest.json');
step('unit and binary tests', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
]);
try {
  const report = JSON.parse(readFileSync(vitestJson, 'utf8'));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + report.numTodoTests;
} catch {
  failedSteps.push('vitest report');
}

const conformance = step('conformance', 'node', ['--import', 'tsx', 'conformance/run-all.ts'], {
  capture: true,
});
const closing = conformance
  .trim()
  .split('\n')
  .at(-1)
  ?.match(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/);
if (closing === null || closing === undefined) {
  failedSteps.push('conformance summary');
} else {
  totals.passed += Number(closing[1]);
  totals.failed += Number(closing[2]);
  totals.skipped += Number(closing[3] ?? 0);
}

// The benchmark's smoke run: it fails only when the instrument broke, never for a missed target.
step('bench smoke', 'node', [
  '--import',
  'tsx',
  'scripts/bench/main.ts',
  '--quick',
  '--out',
  join(work, 'bench'),
]);

rmSync(work, { recursive: true, force: true });
if (failedSteps.length > 0) console.log(`\nfailed steps: ${failedSteps.join(', ')}`);
// A failed step without failed tests (lint, build) still counts as one failure.
const failed = Math.max(totals.failed, failedSteps.length);
console.log(`\n${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`);
process.exit(failedSteps.length === 0 && totals.failed === 0 ? 0 : 1);
