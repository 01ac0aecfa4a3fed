package decoder

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// benchFiles are the bench corpus's videos (make bench creates it), or the
// sample's when it is missing.
func benchFiles(b *testing.B) []string {
	dir := os.Getenv("VIDCACHE_BENCH_CORPUS")
	if dir == "" {
		dir = "../testdata/sample"
	}
	var files []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && filepath.Ext(p) == ".mp4" && fi.Size() > 1000 {
			files = append(files, p)
		}
		return nil
	})
	if len(files) > 200 {
		files = files[:200]
	}
	if len(files) == 0 {
		b.Skip("no videos")
	}
	return files
}

func benchmarkProbe(b *testing.B, mode vocab.Mode) {
	files := benchFiles(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Probe(context.Background(), files[i%len(files)], Options{Mode: mode}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "videos/s")
}

func BenchmarkProbeFast(b *testing.B)  { benchmarkProbe(b, vocab.ModeFast) }
func BenchmarkProbeExact(b *testing.B) { benchmarkProbe(b, vocab.ModeExact) }

func BenchmarkProbeScan(b *testing.B) { benchmarkProbe(b, vocab.ModeScan) }
func BenchmarkProbeScanFFmpeg(b *testing.B) {
	benchmarkProbeOpts(b, Options{Mode: vocab.ModeScan, FFmpegOnly: true})
}

func benchmarkProbeOpts(b *testing.B, o Options) {
	files := benchFiles(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Probe(context.Background(), files[i%len(files)], o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "videos/s")
}
