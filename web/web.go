// Package web holds the operator console, built from web/console by Vite and embedded in the
// binary so `go run ./cmd/linedesk dev` serves it without a Node toolchain. The build output
// (web/console/dist) is committed; CI rebuilds it and fails when the committed files differ.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:console/dist
var console embed.FS

// Handler serves the console: its files by name, and index.html for every other path, so a
// screen's URL (/inbox/42, /admin/lines) opens that screen on reload. Hashed assets are cached
// for good; index.html is revalidated so a new build reaches the browser at once. A missing file
// with an extension (an old asset name) is a 404, not the app.
func Handler() http.Handler {
	dist, err := fs.Sub(console, "console/dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		panic("web: the console is not built: run `npm ci && npm run build` in web/console")
	}
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(dist, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
			if path.Ext(name) != "" {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

//go:embed widget/widget.js
var widgetJS []byte

var widgetGz = func() []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = w.Write(widgetJS)
	_ = w.Close()
	return b.Bytes()
}()

// WidgetScript is the website widget's script (web/widget/widget.js), plain and gzipped.
func WidgetScript() (plain, gzipped []byte) { return widgetJS, widgetGz }
