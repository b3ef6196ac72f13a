package mwcore

import (
	"log/slog"
	"strings"

	"github.com/o11y-go/o11y/metrics"
)

// Access is the access-line policy both middlewares apply: whether a line
// is written, and at which level.
type Access struct {
	On   bool
	Base slog.Level // the level of a successful request's line
}

// AccessFromConfig parses the SDK's Config.Logs.AccessLog
// (O11Y_ACCESS_LOG, read by o11y.ConfigFromEnv): "off" (also "none",
// "false", "0") turns the line off; "debug", "info" (the default, also for
// "" and unknown values, which the root package reports) and "warn" set the
// base level.
//
// It takes the root's named string type (o11y.AccessLogLevel) without
// importing the root package.
func AccessFromConfig[S ~string](s S) Access {
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "off", "none", "false", "0":
		return Access{}
	case "debug":
		return Access{On: true, Base: slog.LevelDebug}
	case "warn", "warning":
		return Access{On: true, Base: slog.LevelWarn}
	}
	return Access{On: true, Base: slog.LevelInfo}
}

// AccessOf returns the policy for a level set in code (WithAccessLog): nil
// turns the line off.
func AccessOf(l slog.Leveler) Access {
	if l == nil {
		return Access{}
	}
	return Access{On: true, Base: l.Level()}
}

// Level returns the level of a request's access line: the base level on
// success, at least Warn for a client error (Error flag: 4xx, client-caused
// gRPC codes) and at least Error for a fault (5xx, server-side gRPC codes,
// panics), so failures stay visible when successes are logged at Debug.
func (a Access) Level(f metrics.Flags) slog.Level {
	l := a.Base
	switch {
	case f&metrics.FlagFault != 0:
		l = max(l, slog.LevelError)
	case f&metrics.FlagError != 0:
		l = max(l, slog.LevelWarn)
	}
	return l
}
