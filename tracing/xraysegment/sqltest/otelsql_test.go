package sqltest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/XSAM/otelsql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite"

	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestOtelsqlSpans runs real statements through otelsql over SQLite (as a
// user following otelsql's README would set it up) and checks that every
// CLIENT span becomes an X-Ray "sql" subsegment.
func TestOtelsqlSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	db, err := otelsql.Open("sqlite", "file:orders?mode=memory&cache=shared",
		otelsql.WithTracerProvider(tp),
		otelsql.WithAttributes(semconv.DBSystemNameSQLite, semconv.DBNamespace("orders")),
		otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitRows: true, OmitConnectorConnect: true}),
	)
	require.NoError(t, err)
	defer db.Close()

	ctx, parent := tp.Tracer("test").Start(context.Background(), "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	_, err = db.ExecContext(ctx, `CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL)`)
	require.NoError(t, err)
	stmt, err := db.PrepareContext(ctx, `INSERT INTO orders (customer) VALUES (?)`)
	require.NoError(t, err)
	_, err = stmt.ExecContext(ctx, "c-1")
	require.NoError(t, err)
	require.NoError(t, stmt.Close())
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE customer = ?`, "c-1").Scan(&n))
	assert.Equal(t, 1, n)
	_, err = db.ExecContext(ctx, `INSERT INTO nowhere VALUES (1)`)
	require.Error(t, err)
	parent.End()

	byName := map[string]map[string]any{}
	for _, s := range rec.Ended() {
		if s.SpanKind() != trace.SpanKindClient {
			continue
		}
		doc := xraysegment.NewEncoder(xraysegment.Config{}).AppendSegment(nil, s)
		require.NoError(t, xrayvalidate.Validate(doc), "%s", doc)
		var m map[string]any
		require.NoError(t, json.Unmarshal(doc, &m))
		assert.Equal(t, "subsegment", m["type"])
		assert.Equal(t, "remote", m["namespace"], "a database is a remote node")
		assert.Equal(t, "orders", m["name"], "named after db.namespace (no host for SQLite)")
		sqlBlock, _ := m["sql"].(map[string]any)
		require.NotNil(t, sqlBlock, "sql block on %s", s.Name())
		assert.Equal(t, "sqlite", sqlBlock["database_type"])
		assert.Nil(t, get(m, "http", "request", "traced"), "a database sends no segment")
		if q, ok := sqlBlock["sanitized_query"].(string); ok {
			byName[s.Name()+" "+q] = m
		}
	}
	cases := []struct {
		key, golden string
		check       func(t *testing.T, m map[string]any)
	}{
		{"sql.conn.exec CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL)", "exec_create", nil},
		{"sql.stmt.exec INSERT INTO orders (customer) VALUES (?)", "stmt_exec_insert", func(t *testing.T, m map[string]any) {
			assert.Equal(t, "statement", get(m, "sql", "preparation"))
		}},
		{"sql.conn.query SELECT count(*) FROM orders WHERE customer = ?", "query_select", func(t *testing.T, m map[string]any) {
			assert.Nil(t, get(m, "sql", "preparation"))
			assert.Equal(t, false, m["fault"])
		}},
		{"sql.conn.exec INSERT INTO nowhere VALUES (1)", "exec_error", func(t *testing.T, m map[string]any) {
			assert.Equal(t, true, m["fault"], "a failed statement is a fault of the call")
			assert.NotEmpty(t, get(m, "cause", "exceptions"))
		}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			m, ok := byName[c.key]
			require.True(t, ok, "no span %q among %v", c.key, keys(byName))
			golden(t, c.golden, normalise(m))
			if c.check != nil {
				c.check(t, m)
			}
		})
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// normalise replaces the fields that change from run to run.
func normalise(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range []string{"id", "trace_id", "parent_id"} {
		out[k] = "<" + k + ">"
	}
	out["start_time"], out["end_time"] = 0, 0
	if cause, ok := out["cause"].(map[string]any); ok {
		for _, ex := range cause["exceptions"].([]any) {
			ex.(map[string]any)["id"] = "<exception id>"
		}
	}
	return out
}

func golden(t *testing.T, name string, m map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(m))
	path := filepath.Join("testdata", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden; run go test -update")
	require.Equal(t, string(want), buf.String())
}
