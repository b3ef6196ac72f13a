package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing"
)

// Secret values: each is unique so a hit names its source.
const (
	secAuth     = "S3CR3T-authorization-bearer"
	secBasic    = "S3CR3T-basic-password"
	secCookie   = "S3CR3T-cookie-session"
	secToken    = "S3CR3T-query-token"
	secPassword = "S3CR3T-query-password"
	secAPIKey   = "S3CR3T-query-api-key"
	secAccess   = "S3CR3T-query-access-token"
	secURLPass  = "S3CR3T-url-password"
	secURLUser  = "S3CR3T-url-user"
	secFragment = "S3CR3T-fragment"
	secProxy    = "S3CR3T-proxy-authorization"
	secXAPIKey  = "S3CR3T-x-api-key"
	secDown     = "S3CR3T-downstream-set-cookie"
)

var secrets = []string{secAuth, secBasic, secCookie, secToken, secPassword, secAPIKey, secAccess, secURLPass, secURLUser,
	secFragment, secProxy, secXAPIKey, secDown}

// TestSecretsNeverEmitted sends requests carrying credentials in headers,
// query strings and URL user info — to the server middleware and through
// the client transport, successful and failing — and greps every byte the
// SDK emitted (span names, attributes and events, segment documents, log
// lines, EMF documents, ErrorHandler reports) for the secret values.
func TestSecretsNeverEmitted(t *testing.T) {
	e := newHostileEnv(t, func(mux *http.ServeMux, sdk *o11y.SDK) {
		// A downstream that answers with a Set-Cookie.
		mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: secDown})
			_, _ = io.WriteString(w, "down")
		})
		// The front handler calls the downstream with credentials in the
		// URL, through the instrumented transport, and logs the way an
		// application might: values under sensitive keys.
		mux.HandleFunc("GET /front", func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			base := "http://" + r.Host
			u, _ := url.Parse(base)
			client := &http.Client{Transport: httpmw.Transport(sdk, nil)}
			for _, target := range []string{
				fmt.Sprintf("http://%s:%s@%s/down?token=%s&password=%s#%s", secURLUser, secURLPass, u.Host, secToken, secPassword, secFragment),
				fmt.Sprintf("http://%s:%s@127.0.0.1:1/refused?api_key=%s", secURLUser, secURLPass, secAPIKey),
			} {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				req.Header.Set("Authorization", "Bearer "+secAuth)
				req.Header.Set("Cookie", "session="+secCookie)
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			log := logging.FromContext(ctx)
			log.Info("handling", "authorization", r.Header.Get("Authorization"), "cookie", r.Header.Get("Cookie"),
				"token", r.URL.Query().Get("token"), "password", r.URL.Query().Get("password"),
				"api_key", r.URL.Query().Get("api_key"), "X-Api-Key", r.Header.Get("X-Api-Key"))
			log.Info("grouped", slog.Group("request", slog.Group("headers",
				slog.String("Authorization", r.Header.Get("Authorization")), slog.String("Cookie", r.Header.Get("Cookie")))))
			_, _ = io.WriteString(w, "front")
		})
	})

	// Incoming requests with every kind of credential.
	u, _ := url.Parse(e.srv.URL)
	for _, path := range []string{
		"/front?token=" + secToken + "&password=" + secPassword + "&api_key=" + secAPIKey + "&access_token=" + secAccess,
		"/orders/1?token=" + secToken + "&password=" + secPassword,
		"/unmatched/x?api_key=" + secAPIKey,
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.SetBasicAuth("user", secBasic)
		req.Header.Set("Authorization", "Bearer "+secAuth)
		req.Header.Set("Cookie", "session="+secCookie+"; other=1")
		req.Header.Set("Proxy-Authorization", "Basic "+secProxy)
		req.Header.Set("X-Api-Key", secXAPIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
	// And through the transport directly, from outside any request.
	rt := httpmw.Transport(e.sdk, nil)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet,
		fmt.Sprintf("http://%s:%s@%s/orders/2?token=%s", secURLUser, secURLPass, u.Host, secToken), nil)
	if resp, err := rt.RoundTrip(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	out, segs := e.finish(t)

	// Everything emitted, as bytes.
	var all bytes.Buffer
	spans := e.spans.GetSpans()
	for _, s := range spans {
		b, err := json.Marshal(s) // name, attributes, events, links, status
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
		all.WriteByte('\n')
	}
	for _, g := range e.daemon.datagrams(t) {
		all.Write(g)
		all.WriteByte('\n')
	}
	all.Write(e.out.Bytes())
	all.WriteString(e.errs.String())
	if len(spans) < 8 || len(segs) < 8 || len(out.logs) < 5 {
		t.Fatalf("too little output to check: %d spans, %d segments, %d log lines", len(spans), len(segs), len(out.logs))
	}
	hay := all.String()
	leaks := 0
	for _, s := range secrets {
		if i := strings.Index(hay, s); i >= 0 {
			leaks++
			t.Errorf("secret %q emitted: …%s…", s, hay[max(0, i-200):min(len(hay), i+len(s)+50)])
		}
	}
	// Base64 of the basic-auth credentials, too.
	if strings.Contains(hay, "dXNlcjpTM0NSM1Qt") {
		t.Error("basic-auth credentials emitted (base64)")
	}
	t.Logf("checked %d bytes (%d spans, %d segments, %d log lines, %d EMF documents) for %d secrets: %d found",
		all.Len(), len(spans), len(segs), len(out.logs), len(out.emf), len(secrets), leaks)
}

// grepSecrets returns the secrets found in hay, with context.
func grepSecrets(hay string, secs ...string) []string {
	var found []string
	for _, s := range secs {
		if i := strings.Index(hay, s); i >= 0 {
			found = append(found, fmt.Sprintf("%q in …%s…", s, hay[max(0, i-120):min(len(hay), i+len(s)+40)]))
		}
	}
	return found
}

// TestSecretsInLoggedValues: an application logging a header map or a
// struct under an innocent key. Redaction works on attribute keys and
// groups; values encoded through encoding/json are not walked.
func TestSecretsInLoggedValues(t *testing.T) {
	buf := &lineBuf{}
	h := logging.NewHandler(buf, nil)
	log := slog.New(h)
	hdr := http.Header{"Authorization": {"Bearer " + secAuth}, "Cookie": {"session=" + secCookie}}
	log.Info("headers", "headers", hdr)
	log.Info("map", "request", map[string]any{"password": secPassword, "nested": map[string]string{"token": secToken}})
	log.Info("struct", "creds", struct {
		User     string
		Password string `json:"password"`
	}{"u", secBasic})
	if found := grepSecrets(string(buf.Bytes()), secAuth, secCookie, secPassword, secToken, secBasic); len(found) > 0 {
		bug(t, "logging: secrets under sensitive keys inside maps/structs are logged (%d): %v", len(found), found)
	}
}

// TestSecretsInURLErrors: net/http's *url.Error carries the request URL
// (query string and user name; only the password is masked). Recording it
// on a span (tracing.RecordError, as the orders example does) or logging it
// as an error value must not leak the query secrets or the user.
func TestSecretsInURLErrors(t *testing.T) {
	e := newHostileEnv(t, func(mux *http.ServeMux, sdk *o11y.SDK) {
		mux.HandleFunc("GET /call", func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			client := &http.Client{Transport: httpmw.Transport(sdk, nil)}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
				fmt.Sprintf("http://%s:%s@127.0.0.1:1/refused?api_key=%s&token=%s", secURLUser, secURLPass, secAPIKey, secToken), nil)
			_, err := client.Do(req)
			if err == nil {
				t.Error("expected the call to fail")
				return
			}
			tracing.RecordError(ctx, err)
			logging.FromContext(ctx).Warn("downstream failed", "error", err)
			w.WriteHeader(http.StatusBadGateway)
		})
	})
	resp, err := http.Get(e.srv.URL + "/call")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.finish(t)
	var spans bytes.Buffer
	for _, s := range e.spans.GetSpans() {
		b, _ := json.Marshal(s)
		spans.Write(b)
	}
	for _, g := range e.daemon.datagrams(t) {
		spans.Write(g)
	}
	// Guard against a vacuous pass: the error must have been recorded.
	if !strings.Contains(spans.String(), "exception") || !strings.Contains(string(e.out.Bytes()), "downstream failed") {
		t.Fatalf("the error was not recorded on the span or not logged:\n%.2000s\n%.2000s", spans.String(), e.out.Bytes())
	}
	inSpans := grepSecrets(spans.String(), secAPIKey, secToken, secURLUser, secURLPass)
	inLogs := grepSecrets(string(e.out.Bytes()), secAPIKey, secToken, secURLUser, secURLPass)
	if len(inSpans)+len(inLogs) > 0 {
		bug(t, "a *url.Error's URL (query secrets, user name) reaches spans (%d: %v) and logs (%d: %v)", len(inSpans), inSpans, len(inLogs), inLogs)
	}
}
