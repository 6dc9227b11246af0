// ESLint flat config: typescript-eslint's recommended rules plus the project's boundaries.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'build/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports only (STYLE.md 1).' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Only src/k8s may import the Kubernetes client (ARCHITECTURE.md).
    files: ['src/**/*.ts', 'controller/**/*.ts', 'speaker/**/*.ts'],
    ignores: ['src/k8s/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@kubernetes/client-node', message: 'Only src/k8s imports the Kubernetes client.' }] },
      ],
    },
  },
);
