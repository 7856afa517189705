package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument is the OpenAPI 3.1 description of the HTTP API. TestOpenAPI* keep it in step
// with the registered routes.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// openAPIContentType is the media type of the document (RFC 9512).
const openAPIContentType = "application/yaml"

// openAPI serves the OpenAPI document (GET /api/openapi.yaml).
func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, openAPIContentType, openAPIDocument)
}
