// ESLint flat config: the recommended JS and TypeScript rules, plus the project's own boundaries
// (src/ never imports vscode; webviews never import Node modules; the layers inside src/ below).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

// The layers of src/, bottom first (docs/architecture.md). A folder imports only folders of lower layers:
// nothing points up, folders of one layer do not import each other, so the folders form no cycle.
const LAYERS = [
  ['runtime', 'util'],
  ['compute', 'io'],
  ['sae', 'tokens', 'annotations', 'capture'],
  ['formats', 'synthetic', 'data'],
  ['metrics'],
  ['diagnostics'],
  ['protocol'],
  ['train'],
  ['views'],
  ['workers', 'cli'],
];
/** Files the layer rule does not classify: src/errors.ts (one error class every layer may throw, importing nothing). */
const UNLAYERED = [
  'src/errors.ts',
];
/** Folders named otherwise than src/<layer name>. */
const FOLDER = {
};
const layerOf = (name) => LAYERS.findIndex((l) => l.includes(name));
const boundaryElements = LAYERS.flat().map((type) => ({ type, pattern: FOLDER[type] ?? `src/${type}`, partialMatch: false }));
// (a folder imports itself too)
const boundaryPolicies = LAYERS.flat().map((name) => ({
  from: { element: { type: name } },
  allow: [name, ...LAYERS.slice(0, layerOf(name)).flat()].map((type) => ({ to: { element: { type } } })),
}));

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
  // the layers inside src/ (LAYERS above): one policy per folder, allowing the folders of lower layers
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': boundaryElements,
      'boundaries/include': ['src/**/*.ts'],
      'boundaries/ignore': UNLAYERED,
      'import/resolver': { node: { extensions: ['.ts', '.js'] } },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: boundaryPolicies, message: 'src/{{from.element.type}} must not import src/{{to.element.type}}: imports point down the layers of docs/architecture.md (eslint.config.mjs LAYERS)' }],
      'boundaries/no-unknown-files': 'error',
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
