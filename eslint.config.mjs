// Lint for the whole workspace: typescript-eslint on every project, Nx module boundaries by tag, and the
// I/O ban that keeps domain libraries pure (STYLE.md §14).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const ioModules = [
  'net', 'tls', 'http', 'https', 'http2', 'fs', 'fs/promises', 'dgram', 'child_process', 'cluster', 'worker_threads',
].flatMap((m) => [m, `node:${m}`]);

// Later `no-restricted-imports` blocks replace earlier ones for the files they match, so each repeats this entry.
const testingOnly = { name: '@weft/testing', message: '@weft/testing holds fixtures for tests only; production code must not import it.' };

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', '**/coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'] },
            { sourceTag: 'type:io', onlyDependOnLibsWithTags: ['type:domain', 'type:io'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:io'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:io'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:domain', 'type:io'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // @weft/testing is for tests only: no production file imports it.
    files: ['**/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [testingOnly] }],
    },
  },
  {
    // Domain libraries hold decision logic only: no sockets, files, gRPC or Kubernetes client.
    files: ['libs/identity/src/**/*.ts', 'libs/policy/src/**/*.ts', 'libs/mesh-model/src/**/*.ts', 'libs/mesh-config/src/**/*.ts', 'libs/metrics/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...ioModules.map((name) => ({ name, message: 'Domain libraries must not do I/O; take an interface instead.' })),
            { name: '@grpc/grpc-js', message: 'gRPC belongs in libs/xds or an app.' },
            { name: '@kubernetes/client-node', message: 'The Kubernetes client belongs in a config source.' },
            testingOnly,
          ],
          patterns: [{ group: ['**/generated/**'], message: 'Generated protobuf types never leave libs/xds.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
