// Package ioctx is a compile-time stand-in for
// github.com/vito/dang/v2/pkg/ioctx, which the Go module proxy does not serve
// (403 at every version). It declares only what
// github.com/dagger/dagger/core/sdk/dang/v2 refers to, so that the Dagger
// engine compiles; the Dang SDK is never run by this build. See
// ../../README.md.
package ioctx

import (
	"context"
	"io"
)

type stdoutKey struct{}

type stderrKey struct{}

// StdoutToContext returns a context carrying w as standard output.
func StdoutToContext(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, stdoutKey{}, w)
}

// StderrToContext returns a context carrying w as standard error.
func StderrToContext(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, stderrKey{}, w)
}
