// Package midterm is a compile-time stand-in for github.com/vito/midterm,
// which the Go module proxy available to this build does not serve.
//
// It declares only what github.com/dagger/dagger (dagql/idtui and
// util/scrub) uses. Terminal is a simple line buffer: it records printable
// text, honours newlines, carriage returns, backspaces and tabs, and drops
// escape sequences, which is enough for the non-interactive frontends that
// print captured logs. It does no cursor addressing, wrapping or styling.
package midterm
