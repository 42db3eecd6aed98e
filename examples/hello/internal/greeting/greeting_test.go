package greeting

import "testing"

func TestGreet(t *testing.T) {
	tests := []struct {
		name  string
		who   string
		shout bool
		want  string
	}{
		{name: "named", who: "Gopher", want: "Hello, Gopher!"},
		{name: "blank greets the world", who: "", want: "Hello, world!"},
		{name: "whitespace greets the world", who: " \t", want: "Hello, world!"},
		{name: "trimmed", who: "  Ada ", want: "Hello, Ada!"},
		{name: "shouted", who: "Gopher", shout: true, want: "HELLO, GOPHER!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Greet(tt.who, tt.shout); got != tt.want {
				t.Errorf("Greet(%q, %v) = %q, want %q", tt.who, tt.shout, got, tt.want)
			}
		})
	}
}
