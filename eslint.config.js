// Type-aware linting: floating and misused promises are errors (an unawaited audit write is a lost decision).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers (docs/architecture.md): each may depend only downwards. A forbidden import is a lint
// error here; test/foundation/imports.test.ts checks the same table and that no import cycle exists.
const HTTP = {
  regex: '(^|/)http/',
  message: 'Below HTTP: throw a DomainError (src/shared/errors.ts); src/http maps it to problem+json.',
};
const ROOT = {
  regex: '(^|/)(entry|cli)/|(^|/)(app|boot)\\.ts$',
  message: 'Capabilities do not import the entries, the app or the composition root; they receive what they use.',
};
const WIRING = {
  regex: '(^|/)wiring\\.ts$',
  allowTypeImports: true,
  message: 'Only the entries build services: receive them, do not import the composition root.',
};
const CAPABILITIES = {
  regex: '(^|/)(catalog|records|policy|audit|identity|operator|system|telemetry)/',
  message: 'src/db knows no capability: capabilities depend on it, not the other way.',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', '.wrangler/', 'coverage/', 'bench/.peers/', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  // Capabilities (everything but the entries, the app and the composition root).
  {
    files: ['src/*/**/*.ts'],
    ignores: ['src/entry/**', 'src/cli/**'],
    rules: restrict(ROOT, WIRING),
  },
  // Routes receive the services they use; only the composition root builds them.
  {
    files: ['src/**/*.routes.ts'],
    rules: restrict(ROOT, WIRING, {
      regex: '\\.(service|wiring)\\.ts$',
      importNamePattern: '^(create|wire)',
      message: 'A route factory receives its services; src/wiring.ts builds them.',
    }),
  },
  // Shared vocabulary: depends on nothing else in src.
  {
    files: ['src/shared/**/*.ts'],
    rules: restrict({
      regex: '^\\.\\./',
      message: 'src/shared depends on nothing else in src: every capability may depend on it.',
    }),
  },
  // Storage: the database and its errors, below every capability and below HTTP.
  { files: ['src/db/**/*.ts'], rules: restrict(HTTP, ROOT, WIRING, CAPABILITIES) },
  // The policy core, services, repos and ports: domain code, below HTTP.
  {
    files: [
      'src/policy/engine*.ts',
      'src/policy/conditions.ts',
      'src/policy/plan-sql.ts',
      'src/policy/loader.ts',
      'src/**/*.service.ts',
      'src/**/*.repo.ts',
      'src/**/*.port.ts',
      'src/**/*.access.ts',
    ],
    rules: restrict(HTTP, ROOT, WIRING),
  },
);
