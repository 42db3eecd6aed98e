package dang

import (
	"context"

	"github.com/vito/dang/v2/pkg/introspection"
)

// ImportConfig describes a GraphQL schema imported into Dang code.
type ImportConfig struct {
	Name       string
	Client     any
	Schema     *introspection.Schema
	AutoImport bool
}

type importConfigsKey struct{}

// ContextWithImportConfigs returns a context carrying the given imports.
func ContextWithImportConfigs(ctx context.Context, configs ...ImportConfig) context.Context {
	return context.WithValue(ctx, importConfigsKey{}, configs)
}

// RunDir would evaluate the Dang module in dir; it returns ErrUnavailable.
func RunDir(ctx context.Context, dir string, debug bool) (ValueScope, error) {
	return nil, ErrUnavailable
}

// DeclareDir would declare the types of the Dang module in dir; it returns
// ErrUnavailable.
func DeclareDir(ctx context.Context, dir string, debug bool) (ValueScope, error) {
	return nil, ErrUnavailable
}

// EvaluateFormsWithPhases would evaluate forms in env; it returns
// ErrUnavailable.
func EvaluateFormsWithPhases(ctx context.Context, forms []Node, env ValueScope) (Value, error) {
	return nil, ErrUnavailable
}

// EvalNode would evaluate node in env; it returns ErrUnavailable.
func EvalNode(ctx context.Context, env ValueScope, node Node) (Value, error) {
	return nil, ErrUnavailable
}
