// Lint: typescript-eslint's strict, type-checked rules over every TypeScript file. Prettier owns
// the layout, so rules that would fight it are off. Import boundaries and folder cycles are
// checked by dependency-cruiser (.dependency-cruiser.cjs).
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Numbers read well in messages (`${count} jobs`); everything else must be a string.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `() => void promise` and `(x) => list.push(x)` are the idiom for fire-and-forget callbacks.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidOperator: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Its "the receiver accepts the original type" check misreads noUncheckedIndexedAccess and
      // removes casts tsc needs (`list[0] as Item`); tsc itself reports casts that change nothing.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // Tests assert on parsed JSON and on values they just made sure of.
    files: ['**/*.test.ts', '**/*.contract.ts', 'test/**/*.ts', '**/test-helpers/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
      // A fixture assigned in beforeAll is typed as always there, but teardown must survive a
      // setup that failed half way (`await rig?.stop()`).
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  prettier,
);
