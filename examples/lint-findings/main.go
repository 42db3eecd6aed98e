// Command lint-findings is made to fail the lint stage: golangci-lint's default linters find an
// unchecked error (errcheck) and an ineffectual assignment (ineffassign), at known lines.
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Setenv("GREETING", "hello")
	count := 1
	count = 2
	fmt.Println("findings ahead", count)
}
