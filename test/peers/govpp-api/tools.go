//go:build tools

// Pins GoVPP's binapi-generator in go.mod/go.sum: scripts/peers/build-govpp-api.sh runs it
// (`go run go.fd.io/govpp/cmd/binapi-generator`) with this module's versions, because the Go proxy
// here refuses the @v/list lookup that `go run ...@v0.13.0` needs.
package main

import _ "go.fd.io/govpp/cmd/binapi-generator"
