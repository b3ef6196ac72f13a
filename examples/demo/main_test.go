package main

import (
	"os"
	"testing"

	"github.com/o11y-go/o11y/examples/internal/e2e"
)

// TestMain builds the binary once for all end-to-end tests and removes it
// afterwards.
func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
