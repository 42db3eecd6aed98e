// Package calc has one function with a bug that its tests catch.
package calc

// Add returns a+b; it is off by one when b is negative.
func Add(a, b int) int {
	if b < 0 {
		return a + b + 1
	}
	return a + b
}
