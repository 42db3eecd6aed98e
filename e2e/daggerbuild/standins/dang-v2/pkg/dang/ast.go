package dang

import "context"

// Node is a node of Dang syntax.
type Node interface {
	Eval(ctx context.Context, env ValueScope) (Value, error)
}

// Record is a list of named nodes, such as call arguments.
type Record []Keyed[Node]

// ValueNode is a node holding an already evaluated value.
type ValueNode struct {
	Val Value
}

// Eval implements Node.
func (n *ValueNode) Eval(ctx context.Context, env ValueScope) (Value, error) { return n.Val, nil }

// Symbol is a name.
type Symbol struct {
	Name string
}

// Eval implements Node; it returns ErrUnavailable.
func (n *Symbol) Eval(ctx context.Context, env ValueScope) (Value, error) {
	return nil, ErrUnavailable
}

// Select selects Field from Receiver.
type Select struct {
	Receiver Node
	Field    *Symbol
}

// Eval implements Node; it returns ErrUnavailable.
func (n *Select) Eval(ctx context.Context, env ValueScope) (Value, error) {
	return nil, ErrUnavailable
}

// FunCall calls Fun with Args.
type FunCall struct {
	Fun  Node
	Args Record
}

// Eval implements Node; it returns ErrUnavailable.
func (n *FunCall) Eval(ctx context.Context, env ValueScope) (Value, error) {
	return nil, ErrUnavailable
}

// FieldDecl declares a field or method of an object type.
type FieldDecl struct {
	Name       *Symbol
	Visibility Visibility
}

// Eval implements Node; it returns ErrUnavailable.
func (n *FieldDecl) Eval(ctx context.Context, env ValueScope) (Value, error) {
	return nil, ErrUnavailable
}

// DirectiveApplication is a directive such as @cache(policy: ...).
type DirectiveApplication struct {
	Name string
	Args []Keyed[Node]
}
