// Command test-failing is made to fail the test stage: TestAddNegative fails at a known line.
package main

import (
	"fmt"

	"github.com/go-dagger-action/test-failing/calc"
)

func main() {
	fmt.Println(calc.Add(1, 2))
}
