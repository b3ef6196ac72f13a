package console

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"time"
)

//go:embed ui
var uiFiles embed.FS

// Handler serves the UI and its JSON API:
//
//	GET /api/traces?filter=EXPR&window=15m&limit=100
//	GET /api/trace?id=1-…
//	GET /api/map?window=15m
//	GET /api/metrics?window=15m&step=10s
//	GET /api/stats
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(uiFiles, "ui")
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /api/traces", c.apiTraces)
	mux.HandleFunc("GET /api/trace", c.apiTrace)
	mux.HandleFunc("GET /api/map", c.apiMap)
	mux.HandleFunc("GET /api/metrics", c.apiMetrics)
	mux.HandleFunc("GET /api/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, c.Stats()) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Wire data is shown as text by the page; the policy is a second
		// line of defence: no inline script, nothing from elsewhere.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the body of a 400 answer; Pos is the 1-based position of a
// filter syntax error.
type apiError struct {
	Error string `json:"error"`
	Pos   int    `json:"pos,omitempty"`
}

// parseWindow reads a window: seconds ("300") or a Go duration ("5m");
// empty or "all" means every stored trace.
func parseWindow(s string) (time.Duration, error) {
	if s == "" || s == "all" || s == "0" {
		return 0, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 && n < 1e9 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("window must be seconds or a duration such as 15m")
	}
	return d, nil
}

func (c *Console) apiTraces(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := ParseFilter(q.Get("filter"))
	if err != nil {
		var se *SyntaxError
		e := apiError{Error: err.Error()}
		if errors.As(err, &se) {
			e.Pos = se.Pos + 1
		}
		writeJSON(w, http.StatusBadRequest, e)
		return
	}
	win, err := parseWindow(q.Get("window"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	writeJSON(w, http.StatusOK, c.store.Traces(f, win, limit))
}

func (c *Console) apiTrace(w http.ResponseWriter, r *http.Request) {
	t, ok := c.store.Trace(r.URL.Query().Get("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{Error: "trace not found (not received yet, or evicted)"})
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (c *Console) apiMap(w http.ResponseWriter, r *http.Request) {
	win, err := parseWindow(r.URL.Query().Get("window"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, c.store.ServiceMap(win))
}

func (c *Console) apiMetrics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	win, err := parseWindow(q.Get("window"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	step, err := parseWindow(q.Get("step"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if step <= 0 {
		step = 10 * time.Second
	}
	if win > 0 && step < win/720 {
		step = win / 720 // at most 720 buckets per series
	}
	writeJSON(w, http.StatusOK, map[string]any{"series": c.store.metrics.query(win, step)})
}
