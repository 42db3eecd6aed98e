module github.com/go-dagger-action/lint-findings

go 1.23

toolchain go1.23.4
