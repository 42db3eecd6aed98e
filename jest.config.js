// ESM + TypeScript: ts-jest transpiles each file (type checking is `npm run typecheck`),
// and Node's VM modules load the ESM-only @actions/* and @dagger.io/dagger packages.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }]
  },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testTimeout: 180000
}
