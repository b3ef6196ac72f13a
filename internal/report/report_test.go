package report

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateLimitedPerKey(t *testing.T) {
	var got []error
	r := New(func(err error) { got = append(got, err) }, time.Minute)
	now := time.Unix(1700000000, 0)
	r.SetClock(func() time.Time { return now })

	for range 100 {
		r.Report("drop", errors.New("queue full"))
	}
	r.Report("other", errors.New("bad header"))
	require.Len(t, got, 2, "one report per key per interval")

	now = now.Add(61 * time.Second)
	r.Report("drop", errors.New("queue full"))
	require.Len(t, got, 3)
	assert.Contains(t, got[2].Error(), "99 more")
	assert.Equal(t, uint64(102), r.Total())
}

func TestNilAndBounded(t *testing.T) {
	var r *Reporter
	r.Report("x", errors.New("ignored"))
	assert.Zero(t, r.Total())

	calls := 0
	r = New(func(error) { calls++ }, 0)
	for i := range 2000 {
		r.Report(string(rune('a'+i%26))+string(rune(i)), errors.New("e"))
	}
	assert.LessOrEqual(t, calls, 1024, "the key map is bounded")
	r.Report("k", nil)
	assert.Equal(t, uint64(2000), r.Total())
}
