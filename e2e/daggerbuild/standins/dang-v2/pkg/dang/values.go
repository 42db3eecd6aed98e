package dang

import (
	"context"

	"github.com/vito/dang/v2/pkg/hm"
	"github.com/vito/dang/v2/pkg/introspection"
	"github.com/vito/dang/v2/pkg/querybuilder"
)

// Value is a Dang runtime value.
type Value interface {
	Type() hm.Type
}

// ValueScope is a scope of named values.
type ValueScope interface {
	Lookup(ctx context.Context, name string) (Value, bool, error)
	Bindings(Visibility) []Keyed[Value]
}

// Object is an instance of a TypeScope.
type Object struct {
	Mod    TypeScope
	Values map[string]Value
}

// NewObject returns an empty instance of mod.
func NewObject(mod TypeScope) *Object {
	return &Object{Mod: mod, Values: map[string]Value{}}
}

// Type implements Value.
func (o *Object) Type() hm.Type { return o.Mod }

// Lookup implements ValueScope.
func (o *Object) Lookup(ctx context.Context, name string) (Value, bool, error) {
	v, ok := o.Values[name]
	return v, ok, nil
}

// Bindings implements ValueScope; the stand-in tracks no visibility and
// reports none.
func (o *Object) Bindings(Visibility) []Keyed[Value] { return nil }

// Bind sets a value.
func (o *Object) Bind(name string, val Value, vis Visibility) {
	if o.Values == nil {
		o.Values = map[string]Value{}
	}
	o.Values[name] = val
}

// OverlayValueScope looks values up in an object, then in a parent scope.
type OverlayValueScope struct {
	Overlay *Object
	Parent  ValueScope
	Self    *Object
}

// CreateOverlayValueScope returns a scope over overlay and parent.
func CreateOverlayValueScope(overlay *Object, parent ValueScope) *OverlayValueScope {
	return &OverlayValueScope{Overlay: overlay, Parent: parent}
}

// EnterSelf sets the value of self.
func (s *OverlayValueScope) EnterSelf(self *Object) { s.Self = self }

// Lookup implements ValueScope.
func (s *OverlayValueScope) Lookup(ctx context.Context, name string) (Value, bool, error) {
	if s.Overlay != nil {
		if v, ok, err := s.Overlay.Lookup(ctx, name); ok || err != nil {
			return v, ok, err
		}
	}
	if s.Parent != nil {
		return s.Parent.Lookup(ctx, name)
	}
	return nil, false, nil
}

// Bindings implements ValueScope; the stand-in reports none.
func (s *OverlayValueScope) Bindings(Visibility) []Keyed[Value] { return nil }

// ConstructorFunction constructs instances of a declared object type.
type ConstructorFunction struct {
	ObjectName      string
	ObjectType      *Type
	FnType          *hm.FunctionType
	Closure         ValueScope
	ObjectBodyForms []Node
}

// Type implements Value.
func (f *ConstructorFunction) Type() hm.Type { return f.FnType }

// Call would construct an instance; it returns ErrUnavailable.
func (f *ConstructorFunction) Call(ctx context.Context, env ValueScope, args map[string]Value) (Value, error) {
	return nil, ErrUnavailable
}

// StringValue is a String.
type StringValue struct{ Val string }

// Type implements Value.
func (StringValue) Type() hm.Type { return StringType }

// IntValue is an Int.
type IntValue struct{ Val int }

// Type implements Value.
func (IntValue) Type() hm.Type { return &Type{Named: "Int", Kind: ScalarKind} }

// BoolValue is a Boolean.
type BoolValue struct{ Val bool }

// Type implements Value.
func (BoolValue) Type() hm.Type { return &Type{Named: "Boolean", Kind: ScalarKind} }

// NullValue is null.
type NullValue struct{}

// Type implements Value.
func (NullValue) Type() hm.Type { return nil }

// EnumValue is a member of an enum.
type EnumValue struct {
	Val      string
	EnumType *Type
}

// Type implements Value.
func (v EnumValue) Type() hm.Type { return v.EnumType }

// ScalarValue is a value of a custom scalar.
type ScalarValue struct {
	Val        string
	ScalarType *Type
}

// Type implements Value.
func (v ScalarValue) Type() hm.Type { return v.ScalarType }

// ListValue is a list.
type ListValue struct {
	Elements []Value
	ElemType hm.Type
}

// Type implements Value.
func (v ListValue) Type() hm.Type { return v.ElemType }

// MapValue is a map with ordered keys.
type MapValue struct {
	Keys    []string
	Entries map[string]Value
	ValType hm.Type
}

// Type implements Value.
func (v MapValue) Type() hm.Type { return MapType{Type: v.ValType} }

// GraphQLFunction is a GraphQL field that takes arguments.
type GraphQLFunction struct {
	Name      string
	TypeName  string
	Field     *introspection.Field
	FnType    *hm.FunctionType
	Client    any
	Schema    *introspection.Schema
	TypeScope TypeScope
}

// Type implements Value.
func (f GraphQLFunction) Type() hm.Type { return f.FnType }

// GraphQLValue is a lazily queried GraphQL value.
type GraphQLValue struct {
	Name       string
	TypeName   string
	Field      *introspection.Field
	ValType    hm.Type
	Client     any
	Schema     *introspection.Schema
	TypeScope  TypeScope
	QueryChain *querybuilder.Selection
}

// Type implements Value.
func (v GraphQLValue) Type() hm.Type { return v.ValType }
