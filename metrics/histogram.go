package metrics

import "math/bits"

// Latency buckets (log-linear, like HDR histograms with 32 sub-buckets per
// power of two), indexed by the latency in whole microseconds v:
//
//   - v < 64 µs: one bucket per microsecond, [v, v+1) µs;
//   - otherwise: with shift = bits.Len64(v)-6, the bucket is
//     [s<<shift, (s+1)<<shift) µs where s = v>>shift is in [32, 63].
//
// A bucket is published as its midpoint, so for latencies of 64 µs and more
// the relative error of any published value is at most 1/64 (1.6 %); below
// 64 µs the absolute error is at most 0.5 µs. Min, Max and Sum are exact.
// Latencies of 2^32 µs (≈ 71.6 minutes) and above share the last bucket.
const (
	subBits    = 5
	subCount   = 1 << subBits // 32
	linearMax  = 2 * subCount // 64
	maxShift   = 32 - subBits - 1
	numBuckets = linearMax + maxShift*subCount
)

// bucketIndex returns the bucket of a latency of us microseconds.
func bucketIndex(us uint64) int {
	if us < linearMax {
		return int(us)
	}
	shift := bits.Len64(us) - (subBits + 1)
	if shift > maxShift {
		return numBuckets - 1
	}
	return linearMax + (shift-1)*subCount + int(us>>uint(shift)) - subCount
}

// bucketMidMs returns the midpoint of bucket i in milliseconds.
func bucketMidMs(i int) float64 {
	if i < linearMax {
		return (float64(i) + 0.5) / 1000
	}
	shift := (i-linearMax)/subCount + 1
	sub := uint64((i-linearMax)%subCount + subCount)
	lo := sub << uint(shift)
	hi := (sub + 1) << uint(shift)
	return float64(lo+hi) / 2 / 1000
}
