// The real-engine suites (npm run e2e, after npm run e2e:setup): the committed bundle against the
// real Dagger engine, one job at a time, so the engine and its state are never shared by two runs.
import base from '../jest.config.js'

export default {
  ...base,
  rootDir: '..',
  testMatch: ['<rootDir>/e2e/**/*.test.ts'],
  testTimeout: 20 * 60 * 1000
}
