// Package teav1 is a compile-time stand-in for github.com/vito/tuist/teav1,
// which the Go module proxy available to this build does not serve.
//
// The real package runs a Bubble Tea v1 model as a tuist component. Here Wrap
// holds the model without running or rendering it, and OnQuit callbacks are
// never called, so interactive forms cannot be answered. Only the
// non-interactive frontends are expected to work.
package teav1
