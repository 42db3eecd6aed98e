// Command hello prints a greeting; it is the Go module the action builds, lints, tests and
// packages when a workflow points `source` at it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-dagger-action/hello/internal/greeting"
)

func main() {
	name := flag.String("name", "", "who to greet (default: the world)")
	shout := flag.Bool("shout", false, "greet in capitals")
	flag.Parse()

	if _, err := fmt.Fprintln(os.Stdout, greeting.Greet(*name, *shout)); err != nil {
		os.Exit(1)
	}
}
