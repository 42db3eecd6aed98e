// Package querybuilder is a compile-time stand-in for
// github.com/vito/dang/v2/pkg/querybuilder, which the Go module proxy does not
// serve (403 at every version). It declares only what
// github.com/dagger/dagger/core/sdk/dang/v2 refers to, so that the Dagger
// engine compiles; the Dang SDK is never run by this build. See
// ../../README.md.
package querybuilder

// Selection is a chain of GraphQL selections. The stand-in only records it.
type Selection struct {
	prev     *Selection
	name     string
	fragment string
	args     map[string]any
}

// Query returns an empty root selection.
func Query() *Selection { return &Selection{} }

// Select selects the named field.
func (s *Selection) Select(name string) *Selection {
	return &Selection{prev: s, name: name}
}

// Arg sets an argument on the current field.
func (s *Selection) Arg(name string, value any) *Selection {
	sel := *s
	sel.args = make(map[string]any, len(s.args)+1)
	for k, v := range s.args {
		sel.args[k] = v
	}
	sel.args[name] = value
	return &sel
}

// InlineFragment selects an inline fragment on the named type.
func (s *Selection) InlineFragment(typeName string) *Selection {
	return &Selection{prev: s, fragment: typeName}
}
