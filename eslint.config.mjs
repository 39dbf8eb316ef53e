// The linter: ESLint's and typescript-eslint's recommended rules, plus the
// project's own few (lines of at most 160 characters). Formatting is
// prettier's (`npm run format`); `npm run lint` checks both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      'max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // require() is how the libraries only some runs need are loaded when first used (the PAC engine, MD4,
      // the system store, kerberos): a fresh process's heap stays small (docs/benchmark.md).
      '@typescript-eslint/no-require-imports': 'off',
      // Matching control characters is the point where text from a peer is escaped before it is printed.
      'no-control-regex': 'off',
    },
  },
);
