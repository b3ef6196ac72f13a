package logging

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestErrorHandler(t *testing.T) {
	var mu sync.Mutex
	var got []error
	onErr := func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }

	h := NewHandler(failWriter{}, &Options{ErrorHandler: onErr})
	l := slog.New(h)
	for range 100 {
		l.Info("m")
		h.Access(context.Background(), &AccessEntry{Status: 200})
	}
	require.Len(t, got, 1, "rate-limited: one report per kind per minute")
	assert.ErrorContains(t, got[0], "disk full")
	assert.Error(t, h.Handle(context.Background(), slog.NewRecord(fixedTime, slog.LevelInfo, "m", 0)), "Handle returns the write error")

	got = nil
	big := strings.Repeat("x", 9000)
	l2 := slog.New(NewHandler(nil, &Options{ErrorHandler: onErr}))
	for range 10 {
		l2.Info("m", "a", big, "b", big)
	}
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], errTruncated)
}

func TestDefaultRedactKeysIsACopy(t *testing.T) {
	k := DefaultRedactKeys()
	require.Contains(t, k, "authorization")
	k[0] = "changed"
	assert.NotEqual(t, "changed", DefaultRedactKeys()[0])
}
