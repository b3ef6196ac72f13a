package metrics

// Unit is a CloudWatch metric unit. Only the 27 constants below are valid;
// any other value is replaced by [None] and reported.
type Unit string

// The 27 units CloudWatch accepts (there is no nanosecond, minute or hour
// unit: convert durations to [Milliseconds] or [Seconds]).
const (
	Seconds            Unit = "Seconds"
	Microseconds       Unit = "Microseconds"
	Milliseconds       Unit = "Milliseconds"
	Bytes              Unit = "Bytes"
	Kilobytes          Unit = "Kilobytes"
	Megabytes          Unit = "Megabytes"
	Gigabytes          Unit = "Gigabytes"
	Terabytes          Unit = "Terabytes"
	Bits               Unit = "Bits"
	Kilobits           Unit = "Kilobits"
	Megabits           Unit = "Megabits"
	Gigabits           Unit = "Gigabits"
	Terabits           Unit = "Terabits"
	Percent            Unit = "Percent"
	Count              Unit = "Count"
	BytesPerSecond     Unit = "Bytes/Second"
	KilobytesPerSecond Unit = "Kilobytes/Second"
	MegabytesPerSecond Unit = "Megabytes/Second"
	GigabytesPerSecond Unit = "Gigabytes/Second"
	TerabytesPerSecond Unit = "Terabytes/Second"
	BitsPerSecond      Unit = "Bits/Second"
	KilobitsPerSecond  Unit = "Kilobits/Second"
	MegabitsPerSecond  Unit = "Megabits/Second"
	GigabitsPerSecond  Unit = "Gigabits/Second"
	TerabitsPerSecond  Unit = "Terabits/Second"
	CountPerSecond     Unit = "Count/Second"
	None               Unit = "None"
)

// Valid reports whether u is one of the 27 CloudWatch units.
func (u Unit) Valid() bool {
	switch u {
	case Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes,
		Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count,
		BytesPerSecond, KilobytesPerSecond, MegabytesPerSecond, GigabytesPerSecond, TerabytesPerSecond,
		BitsPerSecond, KilobitsPerSecond, MegabitsPerSecond, GigabitsPerSecond, TerabitsPerSecond,
		CountPerSecond, None:
		return true
	}
	return false
}

// Resolution is a metric's storage resolution.
type Resolution uint8

const (
	// StandardResolution stores one datapoint per minute (StorageResolution 60,
	// the default, written by omitting the member).
	StandardResolution Resolution = 60
	// HighResolution stores per-second datapoints (StorageResolution 1); it
	// costs more and needs a flush interval below 60 s to be useful.
	HighResolution Resolution = 1
)
