// Command floor is the bench's floor row: the cost of reading the answer
// out of the index with a maintained box library and nothing else. For
// each .mp4 under ROOT/train it opens the file, decodes its boxes with
// github.com/Eyevinn/mp4ff (mdat lazily: sample payloads are never read)
// and walks the first video track's stts and ctts; -jobs files at a time.
// It prints {"videos": N, "failed": F, "seconds": S, "bytes_read": B} on
// stdout (F: files mp4ff could not decode or without a video track).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// countingFile counts the bytes read through it.
type countingFile struct {
	*os.File
	n *atomic.Int64
}

func (f countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.n.Add(int64(n))
	return n, err
}

func parse(path string, read *atomic.Int64) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	mf, err := mp4.DecodeFile(countingFile{f, read}, mp4.WithDecodeMode(mp4.DecModeLazyMdat))
	if err != nil {
		return 0, err
	}
	if mf.Moov == nil {
		return 0, fmt.Errorf("no moov")
	}
	for _, t := range mf.Moov.Traks {
		if t.Mdia == nil || t.Mdia.Hdlr == nil || t.Mdia.Hdlr.HandlerType != "vide" {
			continue
		}
		st := t.Mdia.Minf.Stbl
		frames := 0
		var dts uint64
		for i, n := range st.Stts.SampleCount {
			frames += int(n)
			dts += uint64(n) * uint64(st.Stts.SampleTimeDelta[i])
		}
		if st.Ctts != nil {
			var off int64
			for _, o := range st.Ctts.SampleOffset {
				off += int64(o)
			}
			_ = off
		}
		return frames, nil
	}
	return 0, fmt.Errorf("no video track")
}

func main() {
	jobs := flag.Int("jobs", 2, "files parsed at once")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: floor [-jobs N] ROOT")
	}
	var files []string
	filepath.Walk(filepath.Join(flag.Arg(0), "train"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && strings.HasSuffix(p, ".mp4") {
			files = append(files, p)
		}
		return nil
	})
	var read, next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				if _, err := parse(files[i], &read); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	json.NewEncoder(os.Stdout).Encode(map[string]any{"videos": len(files), "failed": failed.Load(), "seconds": secs, "bytes_read": read.Load()})
}
