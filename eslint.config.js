// The boundaries the design rests on, kept by a tool rather than by review: the core and the CLI
// never import Electron, the renderer never imports Node or the core, only main/ipc.ts talks over
// IPC, and no promise is left floating (an unhandled rejection ends a Node process).
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** A bare specifier naming a Node built-in, with or without `node:`. */
const NODE_BUILTIN = '^(node:.*|fs|path|os|http|https|net|tls|crypto|child_process|stream|events|url|util|buffer|zlib|worker_threads)(/.*)?$';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'release/**', 'node_modules/**', 'test-results/**', 'scripts/package-check/electron-stub.cjs'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['electron/core/**', 'electron/cli/**', 'electron/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(electron|electron-store)(/.*)?$',
              message: 'The core, the CLI and the contract never import Electron: only electron/main and electron/preload do.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      // The two classic rules; the React Compiler's stricter set would flag patterns this code uses on purpose.
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: NODE_BUILTIN, message: 'The renderer runs in a browser page: no Node modules.' },
            { regex: '^electron(/.*)?$', message: 'The renderer reaches the gate only through window.gate (the GateApi contract).' },
            { regex: '/electron/(core|main|cli|preload)/', message: 'The renderer may import only electron/shared (the contract), never the core or a host.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/**', 'renderer/**'],
    ignores: ['electron/main/ipc.ts', 'electron/main/ipc.test.ts', 'electron/preload/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='ipcMain']", message: 'Only electron/main/ipc.ts talks to the window over IPC.' },
        {
          selector: "MemberExpression[property.name='send'][object.property.name='webContents']",
          message: 'Only electron/main/ipc.ts sends to the window (webContents.send).',
        },
      ],
    },
  },
);
