package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretValuer must never be resolved when it sits under a redacted key.
type secretValuer struct{ called *bool }

func (s secretValuer) LogValue() slog.Value {
	*s.called = true
	return slog.StringValue("s3cr3t")
}

// userValuer resolves to a group holding a secret.
type userValuer struct{}

func (userValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", "ann"), slog.String("Password", "s3cr3t"),
		slog.Group("deeper", slog.String("X-Api-Key", "s3cr3t")))
}

func TestRedaction(t *testing.T) {
	called := false
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger, ctx context.Context)
		want map[string]any // path "a.b" → value
	}{
		{"top level, case and dash insensitive", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "Authorization", "Bearer s3cr3t", "SET-COOKIE", "s3cr3t", "api-key", "s3cr3t", "user", "ann")
		}, map[string]any{"Authorization": Redacted, "SET-COOKIE": Redacted, "api-key": Redacted, "user": "ann"}},
		{"nested groups", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", slog.Group("req", slog.Group("headers", slog.String("cookie", "s3cr3t"), slog.String("accept", "json"))))
		}, map[string]any{"req.headers.cookie": Redacted, "req.headers.accept": "json"}},
		{"a redacted group is masked whole", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", slog.Group("credentials", slog.String("user", "u"), slog.String("pw", "s3cr3t")))
		}, map[string]any{"credentials": Redacted}},
		{"WithAttrs inside a group", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").With("client_secret", "s3cr3t", "ok", 1).InfoContext(ctx, "m")
		}, map[string]any{"g.client_secret": Redacted, "g.ok": 1.0}},
		{"LogValuer under a secret key is not resolved", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "token", secretValuer{&called})
		}, map[string]any{"token": Redacted}},
		{"nested LogValuer", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "user", userValuer{})
		}, map[string]any{"user.name": "ann", "user.Password": Redacted, "user.deeper.X-Api-Key": Redacted}},
		{"context attrs", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(WithAttrs(ctx, slog.String("session", "s3cr3t"), slog.String("tenant", "t")), "m")
		}, map[string]any{"session": Redacted, "tenant": "t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, kind := range []string{"handler", "wrap"} {
				var buf bytes.Buffer
				var h slog.Handler = NewHandler(&buf, nil)
				if kind == "wrap" {
					h = Wrap(slog.NewJSONHandler(&buf, nil), nil)
				}
				tc.log(slog.New(h), context.Background())
				assert.NotContains(t, buf.String(), "s3cr3t", kind)
				m := parseLines(t, buf.Bytes())[0]
				for path, want := range tc.want {
					assert.Equal(t, want, lookup(m, path), "%s: %s in %s", kind, path, buf.String())
				}
			}
		})
	}
	assert.False(t, called, "LogValue of a redacted attr was called")
}

func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func TestRedactKeysOption(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(&buf, &Options{RedactKeys: []string{"ssn"}}))
	l.Info("m", "SSN", "123", "password", "visible")
	m := parseLines(t, buf.Bytes())[0]
	assert.Equal(t, Redacted, m["SSN"])
	assert.Equal(t, "visible", m["password"], "custom list replaces the defaults")

	buf.Reset()
	slog.New(NewHandler(&buf, &Options{RedactKeys: []string{}})).Info("m", "password", "visible")
	assert.Equal(t, "visible", parseLines(t, buf.Bytes())[0]["password"], "empty list: no redaction")
}

func TestRedactorMatch(t *testing.T) {
	r := newRedactor(DefaultRedactKeys())
	require.NotNil(t, r)
	for key, want := range map[string]bool{
		"authorization": true, "Authorization": true, "X-API-KEY": true, "x_api_key": true, "apiKey": true,
		"access_token": true, "AccessToken": true, "set_cookie": true, "passwd": true, "__token__": true,
		"tokens": false, "user": false, "": false, "t": false, "password_hint_is_long_enough_to_exceed_the_max_length": false,
	} {
		assert.Equal(t, want, r.match(key), key)
	}
	var nilR *redactor
	assert.False(t, nilR.match("password"))
}
