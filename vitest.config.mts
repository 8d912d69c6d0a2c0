import { defineConfig } from 'vitest/config';

// Two tiers run by separate commands: "unit" needs nothing but Node; "binaries" execs the built
// bundles in dist/ and so runs after `npm run build`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'ipam/**/*.test.ts', 'plugins/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'binaries',
          include: ['conformance/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
