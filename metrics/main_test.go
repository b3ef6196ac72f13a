package metrics

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Recorder, agent sink and reader started by a test must be stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
