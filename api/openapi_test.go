package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// openAPIPathItself is the document's own route; the lead registers it in New, and it is
// documented, so it is left out of the comparison in both directions.
const openAPIPathItself = "/api/openapi.yaml"

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(openAPIDocument, &doc), "api/openapi.yaml does not parse")
	return doc
}

// documentedOperations returns "METHOD /path" for every operation in the document.
func documentedOperations(t *testing.T, doc map[string]any) map[string]bool {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok, "paths is missing or not a map")
	ops := map[string]bool{}
	for path, item := range paths {
		m, ok := item.(map[string]any)
		require.True(t, ok, "path %s is not a map", path)
		for key := range m {
			if slices.Contains(openAPIMethods, key) {
				ops[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	return ops
}

// echoToOpenAPIPath turns /conversations/:number into /conversations/{number}.
func echoToOpenAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

// routedOperations returns "METHOD /path" for every route the document must describe: the API
// under /api/, the platforms' webhooks under /hooks/, the website widget's script and API and
// the operations endpoints. The console catch-all and Echo's internal
// not-found routes are left out.
func routedOperations(t *testing.T) map[string]bool {
	t.Helper()
	// Building the routes touches neither the store nor Temporal; Metrics is set so /metrics is
	// registered.
	e := New(Deps{Logger: slog.New(slog.DiscardHandler), Metrics: http.NotFoundHandler()})
	ops := map[string]bool{}
	for _, r := range e.Routes() {
		if !slices.Contains(openAPIMethods, strings.ToLower(r.Method)) || strings.Contains(r.Path, "*") {
			continue
		}
		switch {
		case r.Path == openAPIPathItself:
			continue
		case strings.HasPrefix(r.Path, "/api/"), strings.HasPrefix(r.Path, "/hooks/"), strings.HasPrefix(r.Path, "/widget"), strings.HasPrefix(r.Path, "/kb/"),
			r.Path == "/healthz", r.Path == "/readyz", r.Path == "/metrics":
			ops[r.Method+" "+echoToOpenAPIPath(r.Path)] = true
		}
	}
	require.NotEmpty(t, ops, "no routes found")
	return ops
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := documentedOperations(t, doc)
	routed := routedOperations(t)

	var undocumented, unrouted []string
	for op := range routed {
		if !documented[op] {
			undocumented = append(undocumented, op)
		}
	}
	for op := range documented {
		if !routed[op] && !strings.HasSuffix(op, " "+openAPIPathItself) {
			unrouted = append(unrouted, op)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unrouted)
	assert.Empty(t, undocumented, "routes missing from api/openapi.yaml")
	assert.Empty(t, unrouted, "api/openapi.yaml describes operations that are not routes")
}

// TestOpenAPIStatesEachRoutesPermission: every operation names, in x-linedesk-permission, the rule
// its route is registered with, so readers of the document know who may call it.
func TestOpenAPIStatesEachRoutesPermission(t *testing.T) {
	doc := loadOpenAPI(t)
	_, rules := newAPI(Deps{Logger: slog.New(slog.DiscardHandler), Metrics: http.NotFoundHandler()})
	paths, _ := doc["paths"].(map[string]any)
	var problems []string
	for key, want := range rules {
		method, path, _ := strings.Cut(key, " ")
		item, _ := paths[echoToOpenAPIPath(path)].(map[string]any)
		op, _ := item[strings.ToLower(method)].(map[string]any)
		if got, _ := op["x-linedesk-permission"].(string); got != string(want) {
			problems = append(problems, fmt.Sprintf("%s: x-linedesk-permission is %q, the route's rule is %q", key, got, want))
		}
	}
	slices.Sort(problems)
	require.Empty(t, problems)
}

// TestOpenAPIDocumentIsConsistent checks what a YAML parser does not: the version, that every
// $ref points at something, that path templates and path parameters agree, that operation ids
// are unique and that every operation names known security schemes and has responses.
func TestOpenAPIDocumentIsConsistent(t *testing.T) {
	doc := loadOpenAPI(t)
	version, _ := doc["openapi"].(string)
	require.True(t, strings.HasPrefix(version, "3.1."), "openapi is %q, want 3.1.x", version)

	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := resolveRef(doc, ref); err != nil {
					problem("%s: %v", where, err)
				}
			}
			for k, x := range v {
				walk(where+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", where, i), x)
			}
		case map[any]any:
			problem("%s: a map with a non-string key (quote status codes)", where)
		}
	}
	walk("#", doc)

	schemes := map[string]any{}
	if comps, ok := doc["components"].(map[string]any); ok {
		schemes, _ = comps["securitySchemes"].(map[string]any)
	}
	checkSecurity := func(where string, v any) {
		list, _ := v.([]any)
		for _, req := range list {
			m, _ := req.(map[string]any)
			for name := range m {
				if _, ok := schemes[name]; !ok {
					problem("%s: unknown security scheme %q", where, name)
				}
			}
		}
	}
	checkSecurity("security", doc["security"])

	template := regexp.MustCompile(`\{([^}]+)\}`)
	ids := map[string]string{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		pathItem, _ := item.(map[string]any)
		want := map[string]bool{}
		for _, m := range template.FindAllStringSubmatch(path, -1) {
			want[m[1]] = true
		}
		shared := pathParams(t, doc, pathItem["parameters"])
		for _, method := range openAPIMethods {
			op, ok := pathItem[method].(map[string]any)
			if !ok {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			got := map[string]bool{}
			for name := range shared {
				got[name] = true
			}
			for name := range pathParams(t, doc, op["parameters"]) {
				got[name] = true
			}
			for name := range want {
				if !got[name] {
					problem("%s: path parameter {%s} is not declared", where, name)
				}
			}
			for name := range got {
				if !want[name] {
					problem("%s: declares path parameter %q that is not in the path", where, name)
				}
			}
			id, _ := op["operationId"].(string)
			if id == "" {
				problem("%s: no operationId", where)
			} else if other, dup := ids[id]; dup {
				problem("%s: operationId %q is also used by %s", where, id, other)
			} else {
				ids[id] = where
			}
			if responses, _ := op["responses"].(map[string]any); len(responses) == 0 {
				problem("%s: no responses", where)
			}
			checkSecurity(where+" security", op["security"])
		}
	}
	slices.Sort(problems)
	require.Empty(t, problems)
}

// pathParams returns the names of the in: path parameters of a parameters list.
func pathParams(t *testing.T, doc map[string]any, v any) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	list, _ := v.([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			r, err := resolveRef(doc, ref)
			if err != nil {
				continue // reported by the $ref walk
			}
			m, _ = r.(map[string]any)
		}
		if in, _ := m["in"].(string); in == "path" {
			name, _ := m["name"].(string)
			out[name] = true
		}
	}
	return out
}

// resolveRef follows a local JSON pointer ("#/components/schemas/Error").
func resolveRef(doc map[string]any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: %q not found", ref, tok)
		}
	}
	return cur, nil
}

func TestOpenAPIHandler(t *testing.T) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodGet, openAPIPathItself, nil)
	rec := httptest.NewRecorder()
	require.NoError(t, (&Server{}).openAPI(e.NewContext(req, rec)))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/yaml", rec.Header().Get(echo.HeaderContentType))
	require.Equal(t, openAPIDocument, rec.Body.Bytes())
}
