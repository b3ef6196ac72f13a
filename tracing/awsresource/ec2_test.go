package awsresource

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const identityDoc = `{"accountId":"123456789012","architecture":"arm64","availabilityZone":"eu-west-1b",
	"imageId":"ami-0fedcba9876543210","instanceId":"i-0fedcba9876543210","instanceType":"m7g.large",
	"pendingTime":"2026-11-25T10:00:00Z","privateIp":"10.1.2.3","region":"eu-west-1","version":"2017-09-30"}`

// fakeIMDS behaves like the instance metadata service: PUT /latest/api/token
// needs the TTL header (400 without it) and returns a token; with v2
// required, a GET without that token gets 401. Overrides replace the
// answer for one path.
type fakeIMDS struct {
	requireV2 bool
	tokenCode int            // status of the token PUT when non-zero
	override  map[string]int // path -> status
	body      map[string]string
	block     chan struct{} // when set, every request waits on it

	mu   sync.Mutex
	log  []string // "METHOD path token"
	ttls []string
}

const fakeToken = "AQAEAFake-token=="

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+r.URL.Path+" "+r.Header.Get(imdsTokenHeader))
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-r.Context().Done():
			return
		}
	}
	if code := f.override[r.URL.Path]; code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	if r.URL.Path == imdsTokenPath {
		if f.tokenCode != 0 {
			http.Error(w, http.StatusText(f.tokenCode), f.tokenCode)
			return
		}
		if r.Method != http.MethodPut {
			http.Error(w, "", http.StatusMethodNotAllowed)
			return
		}
		ttl := r.Header.Get(imdsTTLHeader)
		f.mu.Lock()
		f.ttls = append(f.ttls, ttl)
		f.mu.Unlock()
		if ttl == "" {
			http.Error(w, "missing TTL", http.StatusBadRequest)
			return
		}
		w.Header().Set(imdsTTLHeader, ttl)
		_, _ = w.Write([]byte(fakeToken))
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	tok := r.Header.Get(imdsTokenHeader)
	if (f.requireV2 && tok == "") || (tok != "" && tok != fakeToken) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	b, ok := f.body[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write([]byte(b))
}

func (f *fakeIMDS) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func defaultBodies() map[string]string {
	return map[string]string{
		imdsIdentityPath: identityDoc,
		imdsHostnamePath: "ip-10-1-2-3.eu-west-1.compute.internal\n",
	}
}

func TestEC2IMDS(t *testing.T) {
	full := map[string]any{
		"cloud.provider": "aws", "cloud.platform": "aws_ec2", "cloud.region": "eu-west-1",
		"cloud.availability_zone": "eu-west-1b", "cloud.account.id": "123456789012",
		"host.id": "i-0fedcba9876543210", "host.type": "m7g.large", "host.image.id": "ami-0fedcba9876543210",
		"host.name": "ip-10-1-2-3.eu-west-1.compute.internal",
	}
	tests := []struct {
		name     string
		imds     *fakeIMDS
		want     map[string]any // attributes that must be present
		absent   []string
		wantErr  string // substring; "" means no error
		requests []string
	}{
		{
			name: "v2 session: one PUT, GETs carry the token",
			imds: &fakeIMDS{requireV2: true},
			want: full,
			requests: []string{
				"PUT " + imdsTokenPath + " ",
				"GET " + imdsIdentityPath + " " + fakeToken,
				"GET " + imdsHostnamePath + " " + fakeToken,
			},
		},
		{
			name: "token endpoint 404: IMDSv1 fallback without a token",
			imds: &fakeIMDS{tokenCode: http.StatusNotFound},
			want: full,
			requests: []string{
				"PUT " + imdsTokenPath + " ",
				"GET " + imdsIdentityPath + " ",
				"GET " + imdsHostnamePath + " ",
			},
		},
		{
			name:    "token endpoint 403 while v2 is required: the 401 is reported",
			imds:    &fakeIMDS{tokenCode: http.StatusForbidden, requireV2: true},
			absent:  []string{"cloud.platform", "host.id"},
			wantErr: "HTTP 401",
		},
		{
			name:    "token endpoint 500",
			imds:    &fakeIMDS{tokenCode: http.StatusInternalServerError},
			absent:  []string{"cloud.platform"},
			wantErr: "PUT /latest/api/token: HTTP 500",
		},
		{
			name:    "identity document 500",
			imds:    &fakeIMDS{override: map[string]int{imdsIdentityPath: http.StatusInternalServerError}},
			absent:  []string{"cloud.platform"},
			wantErr: "HTTP 500",
		},
		{
			name:    "identity document not JSON",
			imds:    &fakeIMDS{body: map[string]string{imdsIdentityPath: "<html>"}},
			absent:  []string{"cloud.platform"},
			wantErr: "invalid character",
		},
		{
			name:    "identity document without an instance id",
			imds:    &fakeIMDS{body: map[string]string{imdsIdentityPath: `{"region":"eu-west-1"}`}},
			absent:  []string{"cloud.platform", "cloud.region"},
			wantErr: "no instanceId",
		},
		{
			name:    "identity document too large",
			imds:    &fakeIMDS{body: map[string]string{imdsIdentityPath: `{"x":"` + strings.Repeat("a", maxIMDSResponse) + `"}`}},
			absent:  []string{"cloud.platform"},
			wantErr: "response over",
		},
		{
			name:   "no hostname: the identity is enough, nothing reported",
			imds:   &fakeIMDS{requireV2: true, body: map[string]string{imdsIdentityPath: identityDoc}},
			want:   map[string]any{"cloud.platform": "aws_ec2", "host.id": "i-0fedcba9876543210"},
			absent: []string{"host.name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.imds.body == nil {
				tt.imds.body = defaultBodies()
			}
			srv := httptest.NewServer(tt.imds)
			defer srv.Close()
			res, err := Detect(context.Background(), Options{
				ServiceName: "svc", DetectEC2: true, IMDSEndpoint: srv.URL + "/", Timeout: 10 * time.Second,
			})
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "awsresource: EC2")
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			got := attrs(res)
			assert.Equal(t, "svc", got["service.name"])
			for k, v := range tt.want {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tt.absent {
				assert.NotContains(t, got, k)
			}
			if tt.requests != nil {
				assert.Equal(t, tt.requests, tt.imds.requests())
			}
			tt.imds.mu.Lock()
			defer tt.imds.mu.Unlock()
			for _, ttl := range tt.imds.ttls {
				assert.Equal(t, imdsTokenTTL, ttl, "token PUT carries the TTL header")
			}
		})
	}
}

// TestEC2IMDSHangs: an IMDS that accepts connections and never answers
// costs at most the detection deadline, and the deadline is reported.
func TestEC2IMDSHangs(t *testing.T) {
	f := &fakeIMDS{block: make(chan struct{}), body: defaultBodies()}
	srv := httptest.NewServer(f)
	defer srv.Close()
	defer close(f.block) // before srv.Close, which waits for handlers

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = Detect(ctx, Options{DetectEC2: true, IMDSEndpoint: srv.URL, Timeout: time.Hour})
	}()
	// Cancel once the token request has arrived: the probe must end then.
	require.Eventually(t, func() bool { return len(f.requests()) > 0 }, 10*time.Second, time.Millisecond)
	cancel()
	<-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "awsresource: EC2")
	assert.Contains(t, err.Error(), "context canceled")
	assert.Equal(t, []string{"PUT " + imdsTokenPath + " "}, f.requests())
}
