// Package web holds the operator console's assets, embedded in the binary so `go run` needs no
// Node toolchain.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed console
var console embed.FS

// Handler serves the console.
func Handler() http.Handler {
	sub, _ := fs.Sub(console, "console")
	return http.FileServerFS(sub)
}
