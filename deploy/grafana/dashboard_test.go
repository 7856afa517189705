// Package grafana_test checks the example Grafana dashboard linedesk.json: it parses, every
// panel queries the Prometheus data source variable, the layout fits Grafana's 24-column grid,
// and its queries use the metrics linedesk exports.
package grafana_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Type       string      `json:"type"`
			Name       string      `json:"name"`
			Query      any         `json:"query"`
			Definition string      `json:"definition"`
			Datasource *datasource `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasource              `json:"datasource"`
	GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
	Panels     []panel                  `json:"panels"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
}

// exported are the metrics the dashboard may query: linedesk's own (package telemetry and
// cmd/linedesk/telemetry.go), the Temporal SDK's and the Go and process collectors'.
var exported = []string{
	"linedesk_inbound_messages_total",
	"linedesk_handoff_lag_seconds",
	"linedesk_deliveries_total",
	"linedesk_delivery_failures_total",
	"linedesk_sla_breaches_total",
	"linedesk_routing_wait_seconds",
	"linedesk_http_requests_total",
	"linedesk_http_request_duration_seconds",
	"linedesk_sql_statements_total",
	"temporal_workflow_task_execution_latency",
	"temporal_activity_execution_failed",
}

func load(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile("linedesk.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("linedesk.json does not parse: %v", err)
	}
	return d
}

func TestDashboardParsesAndFits(t *testing.T) {
	d := load(t)
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 36 {
		t.Errorf("title %q, uid %q, schemaVersion %d", d.Title, d.UID, d.SchemaVersion)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Type {
		case "datasource":
			if v.Name != "datasource" || v.Query != "prometheus" {
				t.Errorf("data source variable %q of %v, want datasource of prometheus", v.Name, v.Query)
			}
		case "query":
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s does not query ${datasource}", v.Name)
			}
			checkBalanced(t, "variable "+v.Name, v.Definition)
		}
	}
	if !vars["datasource"] {
		t.Fatal("no Prometheus data source variable named datasource")
	}

	ids := map[int]string{}
	// cells marks the grid cells panels cover: a panel must not overlap another.
	cells := map[[2]int]string{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if other, dup := ids[p.ID]; dup || p.ID == 0 {
				t.Errorf("panel %q: id %d missing or also %q's", p.Title, p.ID, other)
			}
			ids[p.ID] = p.Title
			g := p.GridPos
			if g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
				t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
			}
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, taken := cells[[2]int{x, y}]; taken {
						t.Errorf("panel %q overlaps %q at column %d, row %d", p.Title, other, x, y)
						return
					}
					cells[[2]int{x, y}] = p.Title
				}
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Title == "" || len(p.Targets) == 0 {
				t.Errorf("panel %d %q has no title or no query", p.ID, p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the ${datasource} variable", p.Title)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" || tg.Expr == "" || tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("panel %q: query %q lacks ${datasource}, an expression or a unique refId", p.Title, tg.RefID)
				}
				refs[tg.RefID] = true
				checkBalanced(t, p.Title, tg.Expr)
			}
		}
	}
	walk(d.Panels)
}

// TestDashboardMetrics checks that the dashboard shows every metric linedesk exports for it,
// queries no other linedesk_ or temporal_ metric, and that linedesk's sources still declare
// the linedesk_ ones.
func TestDashboardMetrics(t *testing.T) {
	d := load(t)
	var exprs []string
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	walk(d.Panels)
	all := strings.Join(exprs, "\n")
	for _, m := range append(exported, "go_goroutines", "go_memstats_heap_inuse_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes") {
		if !strings.Contains(all, m) {
			t.Errorf("no panel queries %s", m)
		}
	}
	// Histograms are read through _bucket; Temporal's timers and counters get a unit or _total
	// suffix from the OpenTelemetry exporter, which the queries allow for.
	known := map[string]bool{}
	for _, m := range exported {
		for _, s := range []string{"", "_bucket", "_sum", "_count"} {
			known[m+s] = true
		}
	}
	for _, name := range regexp.MustCompile(`\b(?:linedesk|temporal)_[a-z_]+`).FindAllString(all, -1) {
		if !known[name] {
			t.Errorf("the dashboard queries %s, which linedesk does not export", name)
		}
	}

	// The linedesk_ names as the sources declare them.
	declared := map[string]bool{}
	for _, pattern := range []string{"../../telemetry/*.go", "../../cmd/linedesk/telemetry.go"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`Name:\s*"(linedesk_[a-z_]+)"`).FindAllSubmatch(src, -1) {
				declared[string(m[1])] = true
			}
		}
	}
	if len(declared) == 0 {
		t.Log("no metric declarations found in telemetry/ or cmd/linedesk/telemetry.go: names not cross-checked")
		return
	}
	for _, m := range exported {
		if strings.HasPrefix(m, "linedesk_") && !declared[m] {
			t.Errorf("%s is on the dashboard but no longer declared in linedesk's sources", m)
		}
	}
}

// checkBalanced fails for a query whose brackets do not pair up (outside quoted strings), a cheap
// stand-in for a PromQL parser.
func checkBalanced(t *testing.T, where, expr string) {
	t.Helper()
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	quoted := false
	for i, r := range expr {
		switch {
		case r == '"' && (i == 0 || expr[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case r == ')' || r == ']' || r == '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				t.Errorf("%s: unbalanced %q at %d in %s", where, r, i, expr)
				return
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 || quoted {
		t.Errorf("%s: unclosed brackets or quotes in %s", where, expr)
	}
}
