// The dry-run plan names what would run, with which images, platforms, caches, tags and exports,
// and never a secret.
import { describePlan } from '../src/pipeline/plan.js'
import { fixtureConfig } from './support/pipeline-session.js'

test('all with publishing: stages in order, images, platforms, caches, tags and exports', async () => {
  const cfg = await fixtureConfig({
    image: 'ghcr.io/acme/failing',
    'registry-username': 'octocat',
    'registry-password': 'ghp_s3cr3t',
    'go-private': 'github.com/acme/*',
    'go-private-token': 'glpat-t0ken',
    platforms: 'linux/amd64,linux/arm64,darwin/arm64'
  })
  try {
    const plan = describePlan(cfg)
    const lines = plan.split('\n')
    expect(lines[0]).toMatch(/^Plan \(dry run: no engine/)
    expect(lines).toContain('stages    build, lint, test, image, scan, publish (all)')
    expect(lines).toContain('            publish: after image, lint, test, scan')
    expect(lines).toContain('            image: after build')
    expect(lines).toContain('            scan: after image')
    expect(plan).toContain(
      'module    example.com/failing in __tests__/fixtures/pipeline/go-failing (Go 1.19 from go.mod)'
    )
    expect(plan).toContain('build     golang:1.19, CGO_ENABLED=0')
    expect(plan).toContain('darwin/arm64     go build -trimpath -ldflags "-s -w" -o /out/failing_darwin_arm64 .')
    expect(plan).toContain(
      `export → ${cfg.output}/{failing_linux_amd64,failing_linux_arm64,failing_darwin_arm64,checksums.txt}`
    )
    expect(plan).toContain('lint      golangci/golangci-lint:v2.12.2:')
    expect(plan).toContain('test      golang:1.19: go test -json -coverprofile=/tmp/coverage.out ./...')
    expect(plan).toContain(
      'image     gcr.io/distroless/static-debian12:nonroot + /usr/local/bin/failing, user 65532:65532'
    )
    expect(plan).toContain('            platforms linux/amd64, linux/arm64\n') // darwin is built, not imaged
    expect(plan).toContain('label org.opencontainers.image.version=1.2.3')
    expect(plan).toContain('scan      aquasec/trivy:0.74.0:')
    expect(plan).toContain(`fails on CRITICAL, HIGH; SARIF → ${cfg.output}/failing.sarif`)
    expect(plan).toContain('publish   ghcr.io/acme/failing for linux/amd64, linux/arm64')
    expect(plan).toContain('            tags 1.2.3, 1.2, 1, sha-4b825dc')
    expect(plan).toContain('auth ghcr.io as octocat, password from registry-password (secret)')
    expect(plan).toContain('go-mod-1.19 → /go/pkg/mod, go-build-1.19 → /root/.cache/go-build')
    expect(plan).toContain('trivy-db → /cache/db')
    expect(plan).toContain(
      'private   GOPRIVATE=github.com/acme/*, token from go-private-token (secret) as /root/.netrc for github.com'
    )
    expect(plan).not.toContain('ghp_s3cr3t')
    expect(plan).not.toContain('glpat-t0ken')
  } finally {
    await cfg.cleanup()
  }
})

test('all without image says why nothing is pushed and where the tarball goes', async () => {
  const cfg = await fixtureConfig({ 'dry-run': 'true' })
  try {
    expect(cfg.dryRun).toBe(true)
    const plan = describePlan(cfg)
    expect(plan).toContain('stages    build, lint, test, image, scan (all) (publish left out: no image set)')
    expect(plan).toContain(`export → ${cfg.output}/failing-image.tar (OCI, all platforms)`)
    expect(plan).not.toMatch(/^publish/m)
  } finally {
    await cfg.cleanup()
  }
})

test('a single stage shows only that stage and its caches', async () => {
  const cfg = await fixtureConfig({ stage: 'lint', 'golangci-lint-version': 'v2.5.0' })
  try {
    const plan = describePlan(cfg)
    expect(plan).toContain('stages    lint\n            lint: starts at once\n')
    expect(plan).toMatch(/^lint {6}golangci\/golangci-lint:v2\.5\.0: golangci-lint run /m)
    expect(plan).not.toMatch(/^(build|test|image|scan|publish) /m)
    expect(plan).toContain(
      'caches    go-mod-1.19 → /go/pkg/mod, golangci-lint-v2.5.0 → /root/.cache/golangci-lint, go-build-golangci-lint-v2.5.0 → /root/.cache/go-build (lint)'
    )
  } finally {
    await cfg.cleanup()
  }
})
