// Package hm is a compile-time stand-in for github.com/vito/dang/v2/pkg/hm,
// which the Go module proxy does not serve (403 at every version). It declares
// only the type-system shapes that github.com/dagger/dagger/core/sdk/dang/v2
// refers to, so that the Dagger engine compiles; the Dang SDK is never run by
// this build. See ../../README.md.
package hm

// Type is a Dang type.
type Type interface {
	Name() string
	String() string
}

// Scheme is a possibly polymorphic type.
type Scheme struct {
	T Type
}

// Type returns the scheme's type and whether it is monomorphic.
func (s *Scheme) Type() (Type, bool) {
	if s == nil {
		return nil, false
	}
	return s.T, true
}

// FunctionType is the type of a function from Args to Return.
type FunctionType struct {
	Args   Type
	Return Type
}

// Arg returns the function's argument type.
func (t *FunctionType) Arg() Type { return t.Args }

// Ret returns the function's return type.
func (t *FunctionType) Ret(bool) Type { return t.Return }

// Name implements Type.
func (t *FunctionType) Name() string { return "" }

// String implements Type.
func (t *FunctionType) String() string { return "function" }

// NonNullType is a non-null wrapper of Type.
type NonNullType struct {
	Type Type
}

// Name implements Type.
func (t NonNullType) Name() string {
	if t.Type == nil {
		return ""
	}
	return t.Type.Name()
}

// String implements Type.
func (t NonNullType) String() string {
	if t.Type == nil {
		return "!"
	}
	return t.Type.String() + "!"
}
