import {
  InputError,
  parseBoolean,
  parseImageReference,
  parseInteger,
  parseList,
  parseSize
} from '../src/inputs/parse.js'

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error('no InputError thrown')
}

describe('parseSize', () => {
  test.each([
    ['', 7],
    ['1048576', 1048576],
    ['2GiB', 2 * 2 ** 30],
    ['5GB', 5e9],
    ['1.5g', 1.5e9],
    ['512 MiB', 512 * 2 ** 20],
    ['800mb', 800e6],
    ['1TB', 1e12]
  ])('%p is %p bytes', (raw, bytes) => {
    expect(parseSize('cache-max-size', raw, 7)).toBe(bytes)
  })

  test.each(['5PB', '-1GB', '0', '0.0001', 'GB', '1,5GB', '2 GiB extra'])(
    '%p is refused, naming the input and the value',
    raw => {
      const error = inputError(() => parseSize('cache-max-size', raw, 7))
      expect(error.input).toBe('cache-max-size')
      expect(error.value).toBe(raw.trim())
      expect(error.message).toContain(`'cache-max-size'`)
      expect(error.allowed).toMatch(/size/)
    }
  )
})

describe('parseInteger', () => {
  test.each([
    ['', 300],
    ['5', 5],
    ['+5', 5],
    [' 3600 ', 3600]
  ])('%p is %p', (raw, value) => {
    expect(parseInteger('engine-stop-timeout', raw, 300, { min: 1, max: 3600 })).toBe(value)
  })

  test.each(['-1', '0', '3601', '1e3', '2.5', 'ten'])('%p is refused with the allowed range', raw => {
    const error = inputError(() => parseInteger('engine-stop-timeout', raw, 300, { min: 1, max: 3600 }))
    expect(error.input).toBe('engine-stop-timeout')
    expect(error.allowed).toBe('expected a whole number from 1 to 3600')
  })
})

describe('parseBoolean', () => {
  test.each([
    ['', true, true],
    ['true', false, true],
    ['True', false, true],
    ['FALSE', true, false],
    ['false', true, false]
  ])('%p (default %p) is %p', (raw, fallback, value) => {
    expect(parseBoolean('cache', raw, fallback)).toBe(value)
  })

  test.each(['yes', '1', 'on', 'tru'])('%p is refused', raw => {
    const error = inputError(() => parseBoolean('cache', raw, true))
    expect([error.input, error.value, error.allowed]).toEqual(['cache', raw, 'expected true or false'])
  })
})

test('parseList splits on commas and newlines and drops empty items', () => {
  expect(parseList('build, lint\n\ntest,,\n image ')).toEqual(['build', 'lint', 'test', 'image'])
  expect(parseList('')).toEqual([])
})

describe('parseImageReference: the one reference grammar of every image input', () => {
  test.each([
    'registry.dagger.io/engine:v0.21.8',
    'debian:bookworm-slim',
    'localhost:5000/team/image',
    '[::1]:5000/team/image:tag',
    'host:5000/team/image@sha256:' + 'a'.repeat(64),
    'gcr.io/distroless/static-debian12:nonroot'
  ])('accepts %s', reference => {
    expect(parseImageReference('engine-image', reference)).toBe(reference)
  })

  test.each(['Team/Image', 'image:tag with space', 'image@sha256:short', '/image', 'image:'])(
    'refuses %s, naming the input',
    reference => {
      expect(() => parseImageReference('base-image', reference, 'expected scratch or an image reference')).toThrow(
        new InputError('base-image', reference.trim(), 'expected scratch or an image reference')
      )
    }
  )
})
