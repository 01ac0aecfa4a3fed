package indexer

import (
	_ "embed"
	"strings"
)

// Version is vidcache's version, stored in every cache. It lives in
// version.txt, which the Python package (python/, `make wheel`) reads too.
var Version = strings.TrimSpace(versionTxt)

//go:embed version.txt
var versionTxt string
