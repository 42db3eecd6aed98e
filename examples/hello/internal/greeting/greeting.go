// Package greeting builds the greeting that the hello command prints.
package greeting

import "strings"

// Greet returns a greeting for name, or for the world when name is blank.
func Greet(name string, shout bool) string {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "world"
	}
	greeting := "Hello, " + name + "!"
	if shout {
		return strings.ToUpper(greeting)
	}
	return greeting
}
