// `npm run test:unit`: the suites that need neither root nor Docker (parsers, plans, reports, the
// store's pure parts, and the pipeline against the loopback engine session), for a quick loop
// while editing. `npm test` runs everything, with the Docker daemon.
import base from './jest.config.js'

export const UNIT_SUITES = [
  'action-metadata',
  'cache-server',
  'config',
  'gomod',
  'inputs',
  'install',
  'manifest',
  'pipeline-config',
  'pipeline-dag',
  'pipeline-plan',
  'pipeline-results',
  'pipeline-stages',
  'report-annotations',
  'report-summary',
  'save-policy',
  'state-listing'
]

export default {
  ...base,
  testMatch: UNIT_SUITES.map(name => `<rootDir>/__tests__/${name}.test.ts`)
}
