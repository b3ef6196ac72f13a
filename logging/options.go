package logging

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/o11y-go/o11y/internal/report"
)

// Options configures a [Handler] (and the correlation added by [Wrap]). A nil
// *Options means defaults: level Info, the default redacted keys, no debug
// sampling, no source location.
type Options struct {
	// Level is the minimum level (default Info). Requests whose debug-log
	// sampling decision is true ([Handler.SampleDebug]) log Debug and above
	// whatever Level says. [Wrap] ignores Level: the wrapped handler decides.
	Level slog.Leveler
	// Service, Version and Environment are written on every line as
	// "service", "version" and "environment" when non-empty.
	Service     string
	Version     string
	Environment string
	// RedactKeys replaces [DefaultRedactKeys] when non-nil; an empty non-nil
	// slice turns redaction off. Matching ignores case, '-' and '_'.
	RedactKeys []string
	// DebugSampleRate is the share (0..1) of requests whose Debug records
	// are kept; see [Handler.SampleDebug].
	DebugSampleRate float64
	// AddSource adds a "source" object (function, file, line).
	AddSource bool
	// Clock, when set, replaces the time of every line (records with a zero
	// time still omit "time"). Meant for tests and examples.
	Clock func() time.Time
	// ErrorHandler, when set, receives the handler's own trouble (write
	// errors, lines truncated to fit MaxLineBytes), at most once a minute
	// per kind, with a count of the suppressed ones.
	ErrorHandler func(error)
}

// DefaultRedactKeys returns (a copy of) the attribute keys whose values are
// replaced by [Redacted] when Options.RedactKeys is nil. Matching ignores
// case, '-' and '_' ("X-Api-Key" matches "x_api_key" and "xapikey").
func DefaultRedactKeys() []string { return append([]string(nil), defaultRedactKeys...) }

var defaultRedactKeys = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"password", "passwd", "pwd", "passphrase", "secret", "client_secret",
	"token", "access_token", "refresh_token", "id_token", "auth_token", "bearer",
	"api_key", "apikey", "x-api-key", "private_key", "secret_key",
	"session", "session_id", "session_token", "x-amz-security-token",
	"aws_secret_access_key", "aws_session_token", "credentials", "credit_card",
}

// Redacted replaces the value of a redacted attribute.
const Redacted = "[REDACTED]"

// TruncatedMarker ends a string value cut to fit the line limit.
const TruncatedMarker = "…[truncated]"

// Size limits. Every line, newline included, is shorter than MaxLineBytes.
const (
	// MaxLineBytes bounds one output line (16 KiB).
	MaxLineBytes = 16 * 1024
	// MaxValueBytes bounds one encoded string value (msg included), escapes
	// counted, before line-level truncation drops whole attributes.
	MaxValueBytes = 8 * 1024
	// maxKeyBytes bounds one encoded key or group name.
	maxKeyBytes = 256
	// maxStaticBytes bounds service, version, environment and request_id.
	maxStaticBytes = 256
	// maxPreBytes bounds what WithAttrs pre-encodes, so a handler built with
	// many attrs still leaves room for the record.
	maxPreBytes = 4 * 1024
	// maxCtxAttrs bounds the request-scoped attrs kept by [WithAttrs].
	maxCtxAttrs = 64
	// maxDepth bounds group nesting (a LogValuer may return itself).
	maxDepth = 16
	// maxPooledBuf: larger buffers are dropped, not pooled.
	maxPooledBuf = 16 * 1024
)

// config is built once by NewHandler and shared, read-only, by every handler
// derived from it with WithAttrs/WithGroup.
type config struct {
	w          io.Writer
	level      slog.Leveler
	static     []byte // ,"service":…,"version":…,"environment":… pre-encoded once
	staticAttr []slog.Attr
	redact     *redactor
	sampleRate float64
	addSource  bool
	clock      func() time.Time
	rep        *report.Reporter // nil: nothing reported
}

var errTruncated = errors.New("logging: line over 16 KiB: attrs dropped")

func newConfig(w io.Writer, opts *Options) *config {
	var o Options
	if opts != nil {
		o = *opts
	}
	c := &config{w: w, level: o.Level, sampleRate: o.DebugSampleRate, addSource: o.AddSource, clock: o.Clock}
	if c.w == nil {
		c.w = io.Discard
	}
	if c.level == nil {
		c.level = slog.LevelInfo
	}
	if o.RedactKeys == nil {
		c.redact = defaultRedactor() // immutable, built once and shared
	} else {
		c.redact = newRedactor(o.RedactKeys)
	}
	if o.ErrorHandler != nil {
		c.rep = report.New(o.ErrorHandler, 0)
	}
	for _, f := range [...]struct{ k, v string }{{KeyService, o.Service}, {KeyVersion, o.Version}, {KeyEnvironment, o.Environment}} {
		if f.v == "" {
			continue
		}
		c.static = appendKey(c.static, f.k)
		c.static = appendStr(c.static, f.v, maxStaticBytes)
		c.staticAttr = append(c.staticAttr, slog.String(f.k, f.v))
	}
	return c
}

// redactor matches attribute keys against a set of normalised keys (lower
// case, '-' and '_' removed) without allocating.
type redactor struct {
	keys map[string]struct{}
	// first[b] and last[b] have bit n set when some normalised key of length
	// n starts (ends) with b: a cheap pre-filter so most keys skip the map.
	first, last [256]uint64
	maxLen      int
}

const maxRedactKey = 63 // normalised lengths fit the uint64 filter masks

var defaultRedactor = sync.OnceValue(func() *redactor { return newRedactor(defaultRedactKeys) })

func newRedactor(keys []string) *redactor {
	r := &redactor{keys: make(map[string]struct{}, len(keys))}
	for _, k := range keys {
		var buf [maxRedactKey]byte
		n, ok := normalizeKey(&buf, k, maxRedactKey)
		if !ok || n == 0 {
			continue
		}
		r.keys[string(buf[:n])] = struct{}{}
		r.first[buf[0]] |= 1 << n
		r.last[buf[n-1]] |= 1 << n
		r.maxLen = max(r.maxLen, n)
	}
	if len(r.keys) == 0 {
		return nil
	}
	return r
}

// normalizeKey writes k lower-cased without '-' and '_' into buf; ok is false
// when the result is longer than limit.
func normalizeKey(buf *[maxRedactKey]byte, k string, limit int) (n int, ok bool) {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == '-' || c == '_' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if n >= limit {
			return n, false
		}
		buf[n] = c
		n++
	}
	return n, true
}

// match reports whether key is redacted. Safe on a nil receiver.
func (r *redactor) match(key string) bool {
	if r == nil || key == "" || len(key) > 4*maxRedactKey {
		return false
	}
	// Pre-filter on (first byte, length) and (last byte, length) of the
	// normalised key: most keys fail here without touching the map.
	n := 0
	var first, last byte
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '-' || c == '_' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if n == 0 {
			first = c
		}
		last = c
		n++
	}
	if n == 0 || n > r.maxLen || r.first[first]&(1<<n) == 0 || r.last[last]&(1<<n) == 0 {
		return false
	}
	var buf [maxRedactKey]byte
	n, _ = normalizeKey(&buf, key, r.maxLen)
	_, hit := r.keys[string(buf[:n])] // no allocation: map index by converted bytes
	return hit
}
