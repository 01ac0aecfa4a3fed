package main

import (
	"github.com/vidcache/vidcache/decoder"
	"github.com/vidcache/vidcache/indexer"
)

func toolVersion() string { return indexer.Version + " (FFmpeg " + decoder.Version() + ")" }
