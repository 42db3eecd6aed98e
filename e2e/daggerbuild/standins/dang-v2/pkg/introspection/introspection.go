// Package introspection is a compile-time stand-in for
// github.com/vito/dang/v2/pkg/introspection, which the Go module proxy does
// not serve (403 at every version). It declares only the GraphQL introspection
// shapes that github.com/dagger/dagger/core/sdk/dang/v2 refers to, so that the
// Dagger engine compiles; the Dang SDK is never run by this build. See
// ../../README.md.
package introspection

// TypeKind is the kind of a GraphQL type.
type TypeKind string

// GraphQL type kinds.
const (
	TypeKindScalar      TypeKind = "SCALAR"
	TypeKindObject      TypeKind = "OBJECT"
	TypeKindInterface   TypeKind = "INTERFACE"
	TypeKindUnion       TypeKind = "UNION"
	TypeKindEnum        TypeKind = "ENUM"
	TypeKindInputObject TypeKind = "INPUT_OBJECT"
	TypeKindList        TypeKind = "LIST"
	TypeKindNonNull     TypeKind = "NON_NULL"
)

// Response is the result of an introspection query.
type Response struct {
	Schema *Schema `json:"__schema"`
}

// Schema is an introspected GraphQL schema.
type Schema struct {
	Types Types `json:"types"`
}

// Types is a list of introspected types.
type Types []*Type

// Get returns the type with the given name, or nil.
func (ts Types) Get(name string) *Type {
	for _, t := range ts {
		if t != nil && t.Name == name {
			return t
		}
	}
	return nil
}

// Type is an introspected GraphQL type.
type Type struct {
	Kind   TypeKind `json:"kind"`
	Name   string   `json:"name"`
	Fields []*Field `json:"fields,omitempty"`
}

// Field is an introspected GraphQL field.
type Field struct {
	Name    string   `json:"name"`
	TypeRef *TypeRef `json:"type"`
}

// TypeRef is a reference to a GraphQL type.
type TypeRef struct {
	Kind   TypeKind `json:"kind"`
	Name   string   `json:"name,omitempty"`
	OfType *TypeRef `json:"ofType,omitempty"`
}
