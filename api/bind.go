package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 1 << 20

// decodeJSON reads the request body into v. Malformed JSON, invalid UTF-8, a body over
// maxJSONBody, trailing data or a wrong content type are the client's mistakes and come back as 400 with a message
// that says which.
func decodeJSON(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != echo.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return badRequest("Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, maxJSONBody))
	if err != nil {
		return jsonError(err)
	}
	if err := checkNoNUL(body); err != nil {
		return err
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD without a word: the client would find
	// its text silently changed.
	if !utf8.Valid(body) {
		return badRequest("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return badRequest("request body must hold one JSON value")
	}
	return nil
}

// checkNoNUL refuses a JSON body holding a NUL character (\u0000): PostgreSQL cannot store one
// in text, and it is never part of a real message or name. An escaped backslash before u0000
// ("\\u0000") is the text \u0000, not a NUL, and passes.
func checkNoNUL(body []byte) error {
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if bytes.HasPrefix(body[i+1:], []byte("u0000")) {
			return badRequest("text must not contain NUL characters (\\u0000)")
		}
		i++ // the escaped character
	}
	return nil
}

func jsonError(err error) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return newError(http.StatusBadRequest, "body_too_large", "request body is larger than %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("request body is not valid JSON: it ends too early")
	case errors.As(err, &syntaxErr):
		return badRequest("request body is not valid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badRequest("request body must be a JSON %s, not %s", typeErr.Type.Kind(), typeErr.Value)
		}
		return badRequest("field %q must be %s, not %s", field, kindName(typeErr.Type.Kind().String()), typeErr.Value)
	}
	return badRequest("request body is not valid JSON: %s", err.Error())
}

func kindName(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case k == "slice", k == "array":
		return "an array"
	case k == "map", k == "struct":
		return "an object"
	}
	return fmt.Sprintf("a %s", k)
}

// fieldErrors collects validation problems so one response names all of them.
type fieldErrors []string

func (f *fieldErrors) add(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return newError(http.StatusBadRequest, "invalid_fields", "%s", strings.Join(f, "; "))
}
