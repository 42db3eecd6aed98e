module github.com/go-dagger-action/test-failing

go 1.23

toolchain go1.23.4
