// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Module fences from DESIGN.md: a wrong arrow between folders fails `npm run check`. */
const noChildProcess = [
  { name: 'child_process', message: 'Only lib/dataplane and lib/cni/delegate spawn processes.' },
  {
    name: 'node:child_process',
    message: 'Only lib/dataplane and lib/cni/delegate spawn processes.',
  },
];
const fence = (files, patterns, paths = noChildProcess) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
});
const upperLayers = ['**/plugins/**', '**/conformance/**', '**/netns-tests/**', '**/scripts/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench-results/**', 'coverage/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { console: 'readonly', process: 'readonly' },
    },
  },
  {
    // The single executable's main script: plain CommonJS, run as it is written.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        Buffer: 'readonly',
        __dirname: 'readonly',
        __filename: 'readonly',
        exports: 'writable',
        module: 'writable',
        process: 'readonly',
        require: 'readonly',
      },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  fence(
    ['lib/cni/**/*.ts'],
    [
      {
        group: ['**/datastore/**', '**/dataplane/**', '**/ipam/**', ...upperLayers],
        message: 'lib/cni is the contract: node built-ins only.',
      },
      {
        regex: '^(?!node:|\\.|vitest$)',
        message: 'lib/cni uses node built-ins only (node: prefix).',
      },
    ],
  ),
  fence(
    ['lib/cni/delegate.ts'],
    [{ group: ['**/datastore/**', '**/dataplane/**', '**/ipam/**', ...upperLayers] }],
    [],
  ),
  fence(
    ['lib/calico/**/*.ts'],
    [
      {
        group: ['**/datastore/**', '**/dataplane/**', '**/ipam/**', ...upperLayers],
        message: 'lib/calico: Calico netconf keys shared by both plugins; lib/cni only.',
      },
    ],
  ),
  fence(
    ['lib/datastore/**/*.ts'],
    [
      {
        group: ['**/dataplane/**', '**/ipam/**', ...upperLayers],
        message: 'datastore: lib/cni errors only.',
      },
    ],
  ),
  fence(
    ['lib/dataplane/**/*.ts'],
    [
      {
        group: ['**/datastore/**', '**/ipam/**', ...upperLayers],
        message: 'dataplane: lib/cni errors only.',
      },
    ],
    [],
  ),
  // ipam/** first: for ipam/core files the later, stricter fence wins.
  fence(
    ['ipam/**/*.ts'],
    [
      {
        group: ['**/dataplane/**', ...upperLayers],
        message: 'ipam: ipam/core and lib/datastore only.',
      },
    ],
  ),
  fence(
    ['ipam/core/**/*.ts'],
    [
      {
        group: ['**/lib/**', '../*', '!./*'],
        message: 'ipam/core is pure: no I/O, no other modules.',
      },
      { regex: '^node:', message: 'ipam/core is pure: no node built-ins.' },
    ],
  ),
  // The operator CLI (DESIGN.md): lib and ipam, never the plugins' entry points or test code.
  fence(
    ['cli/**/*.ts'],
    [
      {
        group: ['**/plugins/**', '**/conformance/**', '**/netns-tests/**', '**/scripts/**'],
        message: 'cli: lib and ipam only.',
      },
    ],
  ),
  fence(
    ['plugins/**/*.ts'],
    [{ group: ['**/conformance/**', '**/netns-tests/**', '**/scripts/**'] }],
  ),
  // Tests that run real processes and servers may spawn; they are not part of any bundle.
  {
    files: ['**/*.spawn.test.ts', '**/*.etcd.test.ts', '**/testing/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
