// Command vidcache turns a Kinetics-layout video dataset into a precomputed
// clip index that PyTorch loads with torch.load(path, weights_only=True).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
