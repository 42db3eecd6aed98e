// Package tuist is a compile-time stand-in for github.com/vito/tuist, which
// the Go module proxy available to this build does not serve.
//
// It declares only what github.com/dagger/dagger's dagql/idtui and
// cmd/dagger use. There is no terminal handling: the component tree can be
// rendered to lines (TUI.RenderLines, used for final reports), and Start runs
// a headless loop for Dispatch and mounts the top-level components, but
// nothing is drawn and no input is read. Only the plain, non-interactive
// frontends are expected to work fully.
package tuist
