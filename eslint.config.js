// Lint rules: type-aware promise checks everywhere, and a sandbox fence around workflows/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
export const workflowForbiddenImports = [...nodeBuiltins, ...nodeBuiltins.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.data/**',
      '.data-prod*/**',
      '.test-results/**',
      'coverage/**',
      'test/fixtures/lint/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O modules.
    files: ['workflows/**/*.ts'],
    rules: {
      // Type-only imports (activity signatures for proxyActivities) vanish at compile time, so they pass.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: workflowForbiddenImports.map((name) => ({
            name,
            message: 'Node built-ins are not allowed in workflow code (Temporal sandbox); use an activity.',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: ['**/activities/**', '**/src/proxmox/**', '**/src/config/**', '**/worker/**'],
              message:
                'Workflows may import only @temporalio/workflow, src/domain, src/policy and each other.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', 'bin/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
