package logging

import (
	"math/rand/v2"
	"testing"

	"github.com/o11y-go/o11y/internal/jsonenc"
)

// appendMillis must write what the float formatting it replaces wrote.
func TestAppendMillisMatchesFloatFormatting(t *testing.T) {
	check := func(us int64) {
		t.Helper()
		got := string(appendMillis(nil, us))
		want := string(jsonenc.AppendFloat(nil, float64(us)/1e3))
		if got != want {
			t.Fatalf("appendMillis(%d) = %s, want %s", us, got, want)
		}
	}
	for _, us := range []int64{0, 1, 9, 10, 99, 100, 101, 110, 999, 1000, 1001, 1010, 1100, 12345, 999999,
		1e6, 1e9 + 1, 1e12 - 1, 1e12, 1e12 + 7, 1 << 53, 1<<63 - 1, -1, -1500, -1 << 63} {
		check(us)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(r.Int64N(1e12))
		check(r.Int64N(100000))
	}
}

func FuzzAppendMillis(f *testing.F) {
	f.Add(int64(1234))
	f.Fuzz(func(t *testing.T, us int64) {
		if got, want := string(appendMillis(nil, us)), string(jsonenc.AppendFloat(nil, float64(us)/1e3)); got != want {
			t.Fatalf("appendMillis(%d) = %s, want %s", us, got, want)
		}
	})
}
