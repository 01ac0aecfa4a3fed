package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as the vidcache command, so the tests
// below can run, signal and kill real processes.
func TestMain(m *testing.M) {
	if os.Getenv("VIDCACHE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
