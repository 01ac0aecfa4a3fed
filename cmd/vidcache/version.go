package main

import (
	"strings"

	"github.com/vidcache/vidcache/decoder"
	"github.com/vidcache/vidcache/indexer"
)

func toolVersion() string {
	v := indexer.Version + " (FFmpeg " + decoder.Version()
	if je, _ := decoder.Allocator(); je != "" {
		je, _, _ = strings.Cut(je, "-")
		v += ", jemalloc " + je
	}
	return v + ")"
}
