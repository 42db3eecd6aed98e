package dang

import "github.com/vito/dang/v2/pkg/hm"

// Visibility of a binding.
type Visibility int

// Visibilities, in increasing order.
const (
	PrivateVisibility Visibility = iota
	PublicVisibility
)

// Kind is the kind of a named type.
type Kind int

// Kinds of named types.
const (
	ObjectKind Kind = iota
	EnumKind
	ScalarKind
	InterfaceKind
)

// BindingOriginKind says where a binding came from.
type BindingOriginKind int

// Binding origins.
const (
	BindingOriginLocal BindingOriginKind = iota
	BindingOriginImported
)

// BindingOrigin describes where a binding came from.
type BindingOrigin struct {
	Kind BindingOriginKind
}

// Keyed is a value with a name.
type Keyed[T any] struct {
	Key   string
	Value T
}

// TypeScope is a type that has named members.
type TypeScope interface {
	hm.Type
	SchemeOf(name string) (*hm.Scheme, bool)
	NamedTypes() map[string]TypeScope
	LocalTypeOrigin(name string) (BindingOrigin, bool)
	LocalValueOrigin(name string) (BindingOrigin, bool)
}

// Type is a named Dang type (object, enum, scalar or interface).
type Type struct {
	Named string
	Kind  Kind
}

// StringType is the built-in String type.
var StringType = &Type{Named: "String", Kind: ScalarKind}

// Name implements hm.Type.
func (t *Type) Name() string { return t.Named }

// String implements hm.Type.
func (t *Type) String() string { return t.Named }

// SchemeOf returns the scheme of a member; the stand-in has none.
func (t *Type) SchemeOf(name string) (*hm.Scheme, bool) { return nil, false }

// LocalSchemeOf returns the scheme of a locally declared member; the stand-in
// has none.
func (t *Type) LocalSchemeOf(name string) (*hm.Scheme, bool) { return nil, false }

// Bindings returns the members with at least the given visibility; the
// stand-in has none.
func (t *Type) Bindings(Visibility) map[string]*hm.Scheme { return nil }

// NamedTypes returns the types declared in this scope; the stand-in has none.
func (t *Type) NamedTypes() map[string]TypeScope { return nil }

// LocalTypeOrigin reports where a named type came from; the stand-in has none.
func (t *Type) LocalTypeOrigin(name string) (BindingOrigin, bool) { return BindingOrigin{}, false }

// LocalValueOrigin reports where a value came from; the stand-in has none.
func (t *Type) LocalValueOrigin(name string) (BindingOrigin, bool) { return BindingOrigin{}, false }

// GetDocString returns a member's doc string; the stand-in has none.
func (t *Type) GetDocString(name string) (string, bool) { return "", false }

// GetTypeDocString returns the type's doc string; the stand-in has none.
func (t *Type) GetTypeDocString() string { return "" }

// GetDirectives returns a member's directives; the stand-in has none.
func (t *Type) GetDirectives(name string) []*DirectiveApplication { return nil }

// RecordType is the type of a record, such as a function's arguments.
type RecordType struct {
	Fields     []Keyed[*hm.Scheme]
	DocStrings map[string]string
	Directives []Keyed[[]*DirectiveApplication]
}

// Name implements hm.Type.
func (t *RecordType) Name() string { return "" }

// String implements hm.Type.
func (t *RecordType) String() string { return "record" }

// ListType is a list of Type.
type ListType struct {
	Type hm.Type
}

// Name implements hm.Type.
func (t ListType) Name() string { return "" }

// String implements hm.Type.
func (t ListType) String() string { return "[" + typeString(t.Type) + "]" }

// MapType is a map from strings to Type.
type MapType struct {
	Type hm.Type
}

// Name implements hm.Type.
func (t MapType) Name() string { return "" }

// String implements hm.Type.
func (t MapType) String() string { return "Map[" + typeString(t.Type) + "]" }

func typeString(t hm.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}
