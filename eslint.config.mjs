// ESLint flat config: the recommended JS and TypeScript rules, plus the project's own boundaries
// (src/ never imports vscode; webviews never import Node modules; the layers inside src/ below).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.tools/**', '.test-artifacts/**', 'src/compute/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/ must not import vscode (DESIGN.md).' }] }],
    },
  },
  // layers inside src/ (docs/architecture.md): the runtime is the bottom layer, and the diagnostics do not
  // reach into the trainer (a later block replaces the src/** rule for these files, so vscode is repeated)
  {
    files: ['src/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/ must not import vscode (DESIGN.md).' }],
        patterns: [{ group: ['../*', '../**'], message: 'src/runtime is the bottom layer: it imports nothing else from src/ (docs/architecture.md).' }],
      }],
    },
  },
  {
    files: ['src/diagnostics/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/ must not import vscode (DESIGN.md).' }],
        patterns: [{ group: ['../train', '../train/*'], message: 'the diagnostics sit beside the trainer, not above it: shared plumbing goes to src/runtime (docs/architecture.md).' }],
      }],
    },
  },
  {
    files: ['webviews/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'worker_threads', 'vscode'], message: 'webviews run in the browser.' }] }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js', '.ci/**/*.mjs', 'test/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', __dirname: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
