package httpmw

import (
	"net/http"
	"strings"
)

// Predicate reports whether a request matches. Predicates are built once, at
// construction, and called once per request; they must not allocate.
type Predicate func(r *http.Request) bool

// DefaultSkip matches health checks: the paths /healthz, /health, /ping,
// /readyz, /livez and the ELB-HealthChecker user agent.
var DefaultSkip = Or(
	Path("/healthz", "/health", "/ping", "/readyz", "/livez"),
	UserAgentPrefix("ELB-HealthChecker"),
)

// Path matches requests whose URL path equals one of paths.
func Path(paths ...string) Predicate {
	ps := append([]string(nil), paths...)
	return func(r *http.Request) bool {
		for _, p := range ps {
			if r.URL.Path == p {
				return true
			}
		}
		return false
	}
}

// PathPrefix matches requests whose URL path starts with one of prefixes.
func PathPrefix(prefixes ...string) Predicate {
	ps := append([]string(nil), prefixes...)
	return func(r *http.Request) bool {
		for _, p := range ps {
			if strings.HasPrefix(r.URL.Path, p) {
				return true
			}
		}
		return false
	}
}

// UserAgentPrefix matches requests whose User-Agent starts with one of prefixes.
func UserAgentPrefix(prefixes ...string) Predicate {
	ps := append([]string(nil), prefixes...)
	return func(r *http.Request) bool {
		ua := r.Header.Get("User-Agent")
		for _, p := range ps {
			if strings.HasPrefix(ua, p) {
				return true
			}
		}
		return false
	}
}

// Method matches requests with one of methods (exact, case-sensitive).
func Method(methods ...string) Predicate {
	ms := append([]string(nil), methods...)
	return func(r *http.Request) bool {
		for _, m := range ms {
			if r.Method == m {
				return true
			}
		}
		return false
	}
}

// Or matches when any of preds matches; Or() matches nothing.
func Or(preds ...Predicate) Predicate {
	ps := compact(preds)
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return func(r *http.Request) bool {
		for _, p := range ps {
			if p(r) {
				return true
			}
		}
		return false
	}
}

// And matches when every one of preds matches; And() matches everything.
func And(preds ...Predicate) Predicate {
	ps := compact(preds)
	return func(r *http.Request) bool {
		for _, p := range ps {
			if !p(r) {
				return false
			}
		}
		return true
	}
}

// Not inverts p (a nil p matches nothing, so Not(nil) matches everything).
func Not(p Predicate) Predicate {
	return func(r *http.Request) bool { return p == nil || !p(r) }
}

func compact(preds []Predicate) []Predicate {
	out := make([]Predicate, 0, len(preds))
	for _, p := range preds {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}
