package redact

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pass@api.example.com:8443/v1/items?token=abc#frag", "https://api.example.com:8443/v1/items"},
		{"http://host/path", "http://host/path"},
		{"http://host/path?", "http://host/path"},
		{"/relative?api_key=1", "/relative"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, URLString(tc.in))
			u, err := url.Parse(tc.in)
			assert.NoError(t, err)
			assert.Equal(t, tc.want, URL(u))
		})
	}
	assert.Equal(t, "", URL(nil))
	assert.Equal(t, "http://bad host%zz/p", URLString("http://u:p@bad host%zz/p?token=1"))
}

func TestErrorRedactsClientErrors(t *testing.T) {
	// A real net/http client error: refused connection, secrets in the URL.
	_, err := http.Get("http://alice:s3cret@127.0.0.1:1/orders?token=tok123&x=1")
	assert.Error(t, err)
	assert.True(t, NeedsError(err))
	msg := Error(err)
	for _, secret := range []string{"alice", "s3cret", "tok123"} {
		assert.NotContains(t, msg, secret)
	}
	assert.Contains(t, msg, "127.0.0.1:1/orders")

	wrapped := fmt.Errorf("calling inventory: %w", err)
	assert.NotContains(t, Error(wrapped), "s3cret")

	plain := errors.New("boom token=visible")
	assert.False(t, NeedsError(plain))
	assert.Equal(t, plain.Error(), Error(plain))
	assert.Equal(t, "", Error(nil))
}
