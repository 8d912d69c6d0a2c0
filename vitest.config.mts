import { defineConfig } from 'vitest/config';

// Three tiers run by separate commands: "unit" needs nothing but Node and spawns nothing;
// "binaries" execs the built bundles in dist/ (so it runs after `npm run build`) and fixture plugins;
// "etcd" starts real etcd servers (lib/datastore/testing/etcd-server.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'lib/**/*.test.ts',
            'ipam/**/*.test.ts',
            'plugins/**/*.test.ts',
            'scripts/**/*.test.ts',
            'cli/**/*.test.ts',
          ],
          // *.spawn.test.ts run real subprocesses: they belong to the binaries tier; *.etcd.test.ts
          // need a real etcd: they are the etcd tier.
          exclude: ['**/*.spawn.test.ts', '**/*.etcd.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'binaries',
          include: ['conformance/**/*.test.ts', '**/*.spawn.test.ts'],
          // netns-tests/ is the netns tier, spawn tests included.
          exclude: ['**/node_modules/**', 'netns-tests/**'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'netns',
          include: ['netns-tests/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'etcd',
          include: ['**/*.etcd.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
