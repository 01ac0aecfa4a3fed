// Command vidcache turns a Kinetics-layout video dataset into a precomputed
// clip index that PyTorch loads with torch.load(path, weights_only=True).
package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target unless GOGC is set. vidcache's
// heap is mostly long-lived per-video metadata plus a steady stream of short
// per-probe garbage; collecting at 50% growth instead of Go's default 100%
// keeps peak memory closer to the metadata itself, for about 1% more CPU.
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
