// Package dang is a compile-time stand-in for
// github.com/vito/dang/v2/pkg/dang, which the Go module proxy does not serve
// (403 at every version). It declares only the types, constants and functions
// that github.com/dagger/dagger/core/sdk/dang/v2 refers to, so that the Dagger
// engine compiles. The Dang SDK is never run by this build: every function
// that would parse or evaluate Dang code returns ErrUnavailable. See
// ../../README.md.
package dang

import "errors"

// ErrUnavailable is returned by everything that would evaluate Dang code.
var ErrUnavailable = errors.New("the Dang SDK is not available in this engine build (github.com/vito/dang/v2 is not served by the module proxy)")
