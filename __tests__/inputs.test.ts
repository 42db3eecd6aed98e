import { InputError, parseBoolean, parseSize } from '../src/inputs.js'
import { dag } from '@dagger.io/dagger'
import * as core from '@actions/core'

test('probe', () => {
  expect(parseSize('cache-max-size', '2GiB', 1)).toBe(2 * 2 ** 30)
  expect(() => parseBoolean('cache', 'yes', true)).toThrow(InputError)
  expect(typeof dag.container).toBe('function')
  expect(typeof core.getInput).toBe('function')
})
