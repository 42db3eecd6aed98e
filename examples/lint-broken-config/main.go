// Command lint-broken-config is clean code under a .golangci.yml that golangci-lint refuses.
package main

import "fmt"

func main() {
	fmt.Println("the configuration is what is wrong here")
}
