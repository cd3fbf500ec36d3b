// Lint rules plus the layering from ARCHITECTURE.md: each folder may import only the folders below it.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const internal = (allowed) => {
  const all = [
    'model',
    'wire',
    'sql',
    'catalog',
    'engine',
    'sources',
    'sinks',
    'pgclient',
    'api',
    'config',
    'main',
    'log',
    'errors',
  ]
  const banned = all.filter((f) => !allowed.includes(f))
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((f) => ({
          regex: `^(\\.\\./)+${f}(/|\\.ts$)`,
          message: `this layer may not import "${f}" (see ARCHITECTURE.md, Layout)`,
        })),
      },
    ],
  }
}

export default tseslint.config(
  { ignores: ['node_modules/', 'src/sql/generated/', '.state/', 'bench/out/', '.scratch-*/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['src/model/**'], rules: internal([]) },
  { files: ['src/wire/**'], rules: internal(['errors']) },
  { files: ['src/sql/**'], rules: internal(['model', 'errors']) },
  { files: ['src/catalog/**'], rules: internal(['model', 'errors', 'log']) },
  // Connection options for Postgres peers, shared by sources, sinks and the engine.
  { files: ['src/pgclient/**'], rules: internal(['model', 'errors']) },
  { files: ['src/sources/**'], rules: internal(['model', 'errors', 'log', 'pgclient', 'sources']) },
  { files: ['src/sinks/**'], rules: internal(['model', 'errors', 'log', 'pgclient', 'sinks']) },
  {
    files: ['src/engine/**'],
    rules: internal([
      'model',
      'errors',
      'log',
      'sql',
      'catalog',
      'sources',
      'sinks',
      'pgclient',
      'engine',
      'wire',
      'config',
    ]),
  },
  { files: ['src/api/**'], rules: internal(['model', 'errors', 'log', 'engine', 'config', 'api']) },
  {
    files: ['bin/**', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
)
