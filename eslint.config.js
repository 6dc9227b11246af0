// ESLint flat config: typescript-eslint's recommended rules plus the project's boundaries.
import tseslint from 'typescript-eslint';

/** Pure directories and files (ARCHITECTURE.md): checked by the boundary rules at the end. */
const PURE = [
  'src/api/**/*.ts',
  'src/config/**/*.ts',
  'src/net/**/*.ts',
  'controller/allocator/**/*.ts',
  'speaker/election.ts',
  'speaker/layer2/{arp,ethernet,frames,ndp,netlink,responder,rate-limit,interface-filter}.ts',
  'speaker/bgp/{attributes,codec,fsm,framer,messages,negotiate,notification,packer,rib-out,wire}.ts',
  'speaker/bfd/{fsm,packet}.ts',
];

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
  {
    // Pure code (ARCHITECTURE.md "Boundaries"): no I/O, no Kubernetes client, no logging or
    // CLI libraries, no clock or environment. Time and randomness come in through options.
    files: PURE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...[
              '@kubernetes/client-node',
              'winston',
              'yargs',
              'prom-client',
              'fs',
              'net',
              'dgram',
              'child_process',
              'http',
              'https',
              'tls',
              'os',
            ].map((name) => ({
              name,
              message: 'Pure code does no I/O (ARCHITECTURE.md); take what you need through options.',
            })),
          ],
          patterns: [
            {
              group: ['node:*', '!node:crypto', '!node:buffer'],
              message: 'Pure code does no I/O (ARCHITECTURE.md); take what you need through options.',
            },
            {
              group: ['**/src/k8s/*', '**/k8s/*', '**/native/*', '**/native'],
              message: 'Pure code does no I/O (ARCHITECTURE.md).',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Pure code takes time from a Clock passed in.' },
        { object: 'Math', property: 'random', message: 'Pure code takes randomness through options.' },
        { object: 'process', property: 'env', message: 'Only main.ts files and lab/ read the environment.' },
        { object: 'process', property: 'argv', message: 'Only main.ts files and lab/ read argv.' },
      ],
    },
  },
);
