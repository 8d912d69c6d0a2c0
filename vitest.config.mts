import { defineConfig } from 'vitest/config';

// Two tiers run by separate commands: "unit" needs nothing but Node and spawns nothing;
// "binaries" execs the built bundles in dist/ (so it runs after `npm run build`) and fixture plugins.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'ipam/**/*.test.ts', 'plugins/**/*.test.ts'],
          // *.spawn.test.ts run real subprocesses: they belong to the binaries tier.
          exclude: ['**/*.spawn.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'binaries',
          include: ['conformance/**/*.test.ts', '**/*.spawn.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
