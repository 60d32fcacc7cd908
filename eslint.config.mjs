// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', 'eslint.config.mjs', 'bin/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox and replays from history:
    // it may import the SDK's workflow-safe packages, other workflow files, the pure
    // contracts, the error registry, and activity *types* (for proxyActivities).
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/(workflow|common)(/|$))[^.]',
              message:
                'Workflow code must be deterministic: only @temporalio/workflow and @temporalio/common; do I/O in activities.',
            },
            {
              regex: '^\\.\\./(?!common/contracts/|common/errors$)',
              message:
                'Workflows import only other workflow files, common/contracts/** and common/errors (activity types via `import type`).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // What workflows import must itself stay pure: no packages, no Node built-ins, nothing outside the contracts.
    files: ['common/contracts/**/*.ts', 'common/errors.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^[^.]',
              message: 'Contracts are imported by workflow code: keep them free of packages and Node built-ins.',
            },
            {
              regex: '^\\.\\./(?!errors$|contracts/)',
              message: 'Contracts may import only other contracts and the error registry.',
            },
          ],
        },
      ],
    },
  },
  {
    // The library is what a backend imports instead of shelling out: it must not depend on the CLI built on it.
    files: ['client/datashare.ts', 'client/library/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'commander', message: 'The library has no command line: parse arguments in client/cli/.' }],
          patterns: [
            {
              regex: '(^|/)cli(/|$)',
              message:
                'The library may not import the CLI (client/cli.ts, client/cli/**); the CLI imports the library.',
            },
          ],
        },
      ],
    },
  },
);
