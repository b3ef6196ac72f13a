package httpmw

import (
	"log/slog"
	"net/http"

	"github.com/o11y-go/o11y/internal/mwcore"
)

// Option configures the server middleware ([New], [Handler]). Options that
// also configure the client return a [SharedOption]; client-only options are
// [ClientOption]s, which the server does not accept, so an option can never
// be passed where it has no effect. Later options win.
type Option interface{ applyServer(*config) }

// ClientOption configures the client ([Transport], [Client]).
type ClientOption interface{ applyClient(*clientConfig) }

// SharedOption is an option both the server and the client accept.
type SharedOption interface {
	Option
	ClientOption
}

type serverOption func(*config)

func (f serverOption) applyServer(c *config) { f(c) }

type clientOption func(*clientConfig)

func (f clientOption) applyClient(c *clientConfig) { f(c) }

type sharedOption struct {
	s func(*config)
	c func(*clientConfig)
}

func (o sharedOption) applyServer(c *config)       { o.s(c) }
func (o sharedOption) applyClient(c *clientConfig) { o.c(c) }

type config struct {
	route       func(*http.Request) string
	skip        Predicate
	rePanic     bool
	access      mwcore.Access
	reqIDHeader string
}

type clientConfig struct {
	peerService string
	reqIDHeader string
}

// DefaultRequestIDHeader is the header the request id is read from,
// returned in and forwarded in unless [WithRequestIDHeader] says otherwise.
const DefaultRequestIDHeader = "X-Request-Id"

// WithRoute sets how the route template of a request is found, for routers
// that do not fill [http.Request.Pattern] (chi, gorilla/mux: see the
// chiroute and muxroute sub-packages). fn is called before the handler (the
// route is used at span start when already known, e.g. when the middleware
// runs inside the router) and again after it. fn must be cheap, must not
// allocate on the hot path, and must return a template ("/orders/{id}"),
// never the raw path; "" means unknown. Default: the path part of r.Pattern.
func WithRoute(fn func(r *http.Request) string) Option {
	return serverOption(func(c *config) { c.route = fn })
}

// WithSkip replaces the default skip list ([DefaultSkip]): a request matching
// any of preds goes straight to the handler: no span, no metrics, no access
// line, no request id or trace header. WithSkip() with no predicates
// records every request. To extend the default:
//
//	httpmw.WithSkip(httpmw.DefaultSkip, httpmw.PathPrefix("/internal/"))
func WithSkip(preds ...Predicate) Option {
	return serverOption(func(c *config) { c.skip = Or(preds...) })
}

// WithRePanic makes the middleware re-panic after recording a handler panic
// (so an outer recovery or net/http's own handling sees it). Default false:
// the panic is recovered and answered with 500 when nothing was written.
func WithRePanic(on bool) Option {
	return serverOption(func(c *config) { c.rePanic = on })
}

// WithAccessLog sets the level of the per-request access line of a
// successful request (client errors are written at Warn or above, faults at
// Error or above); nil turns the line off. Default: the SDK's
// Config.Logs.AccessLog (O11Y_ACCESS_LOG: "info", "debug", "warn", "off"),
// else Info.
func WithAccessLog(level slog.Leveler) Option {
	return serverOption(func(c *config) { c.access = mwcore.AccessOf(level) })
}

// WithRequestIDHeader sets the header the server accepts the request id from
// and returns it in, and the header the client forwards it in. Default
// [DefaultRequestIDHeader].
func WithRequestIDHeader(name string) SharedOption {
	name = http.CanonicalHeaderKey(name)
	return sharedOption{
		s: func(c *config) {
			if name != "" {
				c.reqIDHeader = name
			}
		},
		c: func(c *clientConfig) {
			if name != "" {
				c.reqIDHeader = name
			}
		},
	}
}

// WithPeerService names the called service: the client span (and so the
// X-Ray subsegment and service-map node) is named peerService and carries
// peer.service. Default: the request's host name.
func WithPeerService(name string) ClientOption {
	return clientOption(func(c *clientConfig) { c.peerService = name })
}
