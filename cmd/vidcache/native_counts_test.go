package main

import (
	"strings"
	"testing"
)

// TestBuildCountsNativeProbes: build --json counts the probes answered from
// the MP4 sample tables and those FFmpeg answered, and --verbose names
// each file FFmpeg read and why the native probe declined it.
func TestBuildCountsNativeProbes(t *testing.T) {
	home := t.TempDir()
	root := sample(t)
	for _, target := range [][]string{nil, {"--target", "torchvision-pyav"}} {
		b := buildJ(t, t.TempDir(), append([]string{root}, target...)...)
		// 13 MP4s, 12 of them H.264 (MPEG-4 Part 2 goes to FFmpeg), an
		// AVI, a text file and an empty file.
		if b.Native != 12 || b.FFmpeg != 4 || b.Native+b.FFmpeg != int64(b.Probed) {
			t.Errorf("%v: native %d, ffmpeg %d of %d probed", target, b.Native, b.FFmpeg, b.Probed)
		}
	}
	r := vc(t, home, "build", root, "--verbose")
	for _, want := range []string{
		`read by FFmpeg video=` + root + `/train/playing guitar/mpeg4-lavc.mp4 why="esds" inside "mp4v"`,
		`read by FFmpeg video=` + root + `/train/juggling/zero-bytes.mp4 why=file of 0 bytes`,
		"12 from the MP4 sample tables, 4 by FFmpeg",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--verbose lacks %q:\n%s", want, r.stderr)
		}
	}
}
