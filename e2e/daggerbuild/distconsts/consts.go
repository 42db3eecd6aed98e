// Package distconsts stands in for the dagger module's nested engine/distconsts module, which the Go
// module proxy does not serve. It holds the paths and names that the engine image is laid out by; the
// image that e2e/setup.sh assembles follows them.
package distconsts

// EngineContainerName is the container a CLI without a version stamp connects to.
const EngineContainerName = "dagger-engine.dev"

// Paths inside the engine image.
const (
	RuncPath              = "/usr/local/bin/runc"
	DaggerInitPath        = "/usr/local/bin/dagger-init"
	TiniPath              = "/usr/local/bin/tini"
	EngineDefaultStateDir = "/var/lib/dagger"

	// DefaultEngineSockAddr is where the engine listens inside its container; buildctl dial-stdio uses it.
	DefaultEngineSockAddr = "unix:///run/dagger/engine.sock"
	// EngineCustomCACertsDir holds extra CA certificates the engine installs at start.
	EngineCustomCACertsDir = "/usr/local/share/ca-certificates"

	EngineContainerBuiltinContentDir   = "/usr/local/share/dagger/content"
	GoSDKManifestDigestEnvName         = "DAGGER_GO_SDK_MANIFEST_DIGEST"
	PythonSDKManifestDigestEnvName     = "DAGGER_PYTHON_SDK_MANIFEST_DIGEST"
	TypescriptSDKManifestDigestEnvName = "DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST"
)

// Images the engine falls back to (interactive terminals, SDK runtimes). A Go-only pipeline pulls none.
const (
	AlpineVersion = "3.22.1"
	AlpineImage   = "alpine:" + AlpineVersion

	GolangVersion = "1.26"
	GolangImage   = "golang:" + GolangVersion + "-alpine"

	BusyboxVersion = "1.37.0"
	BusyboxImage   = "busybox:" + BusyboxVersion
)

// OCIVersionAnnotation is the annotation an image's version is read from.
const OCIVersionAnnotation = "org.opencontainers.image.version"
