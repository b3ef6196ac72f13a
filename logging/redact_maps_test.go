package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactionInsideMapsAndURLErrors(t *testing.T) {
	hdr := http.Header{"Authorization": {"Bearer sekrit-1"}, "Accept": {"json"}}
	q := url.Values{"token": {"sekrit-2"}, "page": {"2"}}
	m := map[string]string{"password": "sekrit-3", "user": "bob"}
	nested := map[string]any{"db": map[string]any{"api_key": "sekrit-4", "host": "db1"}}
	urlErr := &url.Error{Op: "Get", URL: "https://bob:sekrit-5@api.example.com/x?access_token=sekrit-6", Err: errors.New("refused")}

	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"handler": func(b *bytes.Buffer) slog.Handler { return NewHandler(b, nil) },
		"wrap":    func(b *bytes.Buffer) slog.Handler { return Wrap(slog.NewJSONHandler(b, nil), nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(mk(&buf))
			l.InfoContext(context.Background(), "req",
				"headers", hdr, "query", q, "creds", m, "cfg", nested, slog.Group("g", "h", hdr))
			l.Error("call failed", "err", error(urlErr))
			out := buf.String()
			for _, secret := range []string{"sekrit-1", "sekrit-2", "sekrit-3", "sekrit-4"} {
				assert.NotContains(t, out, secret)
			}
			// Non-secret entries survive.
			assert.Contains(t, out, "json")
			assert.Contains(t, out, "bob")
			assert.Contains(t, out, "db1")
			if name == "handler" { // the wrapped handler formats errors itself
				assert.NotContains(t, out, "sekrit-5")
				assert.NotContains(t, out, "sekrit-6")
				assert.Contains(t, out, "api.example.com/x")
			}
		})
	}
	// The caller's maps are never modified.
	assert.Equal(t, "Bearer sekrit-1", hdr.Get("Authorization"))
	assert.Equal(t, "sekrit-3", m["password"])
}

func TestRedactionInsideStructs(t *testing.T) {
	type creds struct {
		User     string `json:"user"`
		Password string `json:"password"`
		Nested   struct {
			APIKey string `json:"api_key"`
		} `json:"nested"`
		List []map[string]string `json:"list"`
	}
	c := creds{User: "bob", Password: "sekrit-7"}
	c.Nested.APIKey = "sekrit-8"
	c.List = []map[string]string{{"token": "sekrit-9"}}
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"handler": func(b *bytes.Buffer) slog.Handler { return NewHandler(b, nil) },
		"wrap":    func(b *bytes.Buffer) slog.Handler { return Wrap(slog.NewJSONHandler(b, nil), nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(mk(&buf)).Info("login", "account", c, "ptr", &c, "n", 42)
			out := buf.String()
			for _, secret := range []string{"sekrit-7", "sekrit-8", "sekrit-9"} {
				assert.NotContains(t, out, secret)
			}
			assert.Contains(t, out, "bob")
			assert.Contains(t, out, `"n":42`)
		})
	}
}
