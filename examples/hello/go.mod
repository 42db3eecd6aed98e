module github.com/go-dagger-action/hello

go 1.23

toolchain go1.23.4
