package httpmw

import (
	"log/slog"
	"net/http"
	"strings"
)

// Option configures the server middleware built by [New]. Each option touches
// one setting; later options win.
type Option struct{ apply func(*config) }

type config struct {
	route       func(*http.Request) string
	skip        Predicate
	rePanic     bool
	accessLog   bool
	accessLevel slog.Level
	reqIDHeader string
}

// DefaultRequestIDHeader is the header the request id is read from and
// written to unless [WithRequestIDHeader] says otherwise.
const DefaultRequestIDHeader = "X-Request-Id"

// WithRoute sets how the route template of a request is found, for routers
// that do not fill [http.Request.Pattern] (chi, gorilla/mux: see the
// chiroute and muxroute sub-packages). fn is called before the handler (the
// route is used at span start when already known, e.g. when the middleware
// runs inside the router) and again after it. fn must be cheap, must not
// allocate on the hot path, and must return a template ("/orders/{id}"),
// never the raw path; "" means unknown. Default: the path part of r.Pattern.
func WithRoute(fn func(r *http.Request) string) Option {
	return Option{func(c *config) { c.route = fn }}
}

// WithSkip replaces the default skip list ([DefaultSkip]): a request matching
// any of preds goes straight to the handler: no span, no metrics, no access
// line, no request id or trace header. WithSkip() with no predicates
// records every request. To extend the default:
//
//	httpmw.WithSkip(httpmw.DefaultSkip, httpmw.PathPrefix("/internal/"))
func WithSkip(preds ...Predicate) Option {
	return Option{func(c *config) { c.skip = Or(preds...) }}
}

// WithRePanic makes the middleware re-panic after recording a handler panic
// (so an outer recovery or net/http's own handling sees it). Default false:
// the panic is recovered and answered with 500 when nothing was written.
func WithRePanic(on bool) Option {
	return Option{func(c *config) { c.rePanic = on }}
}

// WithAccessLog sets the level of the per-request access line; nil turns the
// line off. Default: the SDK's Config.Logs.AccessLog ("info", "debug",
// "off"), else Info.
func WithAccessLog(level slog.Leveler) Option {
	return Option{func(c *config) {
		if level == nil {
			c.accessLog = false
			return
		}
		c.accessLog, c.accessLevel = true, level.Level()
	}}
}

// WithRequestIDHeader sets the header the request id is accepted from and
// returned in. Default [DefaultRequestIDHeader].
func WithRequestIDHeader(name string) Option {
	return Option{func(c *config) {
		if name != "" {
			c.reqIDHeader = http.CanonicalHeaderKey(name)
		}
	}}
}

func accessFromConfig(s string) (on bool, level slog.Level) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "none", "false", "0":
		return false, 0
	case "debug":
		return true, slog.LevelDebug
	case "warn", "warning":
		return true, slog.LevelWarn
	}
	return true, slog.LevelInfo
}
