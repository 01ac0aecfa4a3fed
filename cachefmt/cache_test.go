package cachefmt

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt/torchpeer"
)

func fp(v float64) *float64 { return &v }

// sampleCache has the awkward cases: an empty video, a None fps, a unicode
// path, a negative and a huge timestamp, an empty class.
func sampleCache() (*Cache, [][]int64) {
	pts := [][]int64{
		{0, 512, 1024, 1536},
		{},
		{-1001, 0, 1001, 2002, 1 << 40},
		{7},
	}
	c := &Cache{
		Config: Config{
			Root: "/data/k400", Split: "train", Extensions: []string{"avi", "mp4"},
			Spec:   clips.Spec{FramesPerClip: 2, StepBetweenClips: 1, FrameRate: fp(7.5)},
			Target: vocab.TargetPyAV, Mode: vocab.ModeFast, FFmpeg: "7.1.5", ToolVersion: "test", CreatedUnix: 1700000000,
		},
		Classes: []string{"a", "b b", "empty", "ünï"},
		Videos: []Video{
			{Path: "/data/k400/train/a/x.mp4", NumFrames: 4, FPS: fp(25), Label: 0, ClipCount: 3},
			{Path: "/data/k400/train/a/broken.mp4", NumFrames: 0, FPS: nil, Label: 0, ClipCount: 0},
			{Path: "/data/k400/train/b b/y z.avi", NumFrames: 5, FPS: fp(30000.0 / 1001), Label: 1, ClipCount: 4},
			{Path: "/data/k400/train/ünï/日本.mp4", NumFrames: 1, FPS: fp(12.5), Label: 3, ClipCount: 0},
		},
	}
	c.Pts = func(i int) ([]int64, error) { return pts[i], nil }
	return c, pts
}

func writeTemp(t *testing.T, c *Cache, opts Options) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cache.pt")
	if err := WriteFile(p, c, opts); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTripGopickle(t *testing.T) {
	c, pts := sampleCache()
	f, err := ReadFile(writeTemp(t, c, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != FormatVersion {
		t.Errorf("format_version = %d", f.Format)
	}
	if !reflect.DeepEqual(f.Config, c.Config) {
		t.Errorf("config:\n got %+v\nwant %+v", f.Config, c.Config)
	}
	if !reflect.DeepEqual(f.Classes, c.Classes) {
		t.Errorf("classes = %q", f.Classes)
	}
	if len(f.Videos) != len(c.Videos) {
		t.Fatalf("%d videos read back, %d written", len(f.Videos), len(c.Videos))
	}
	for i, v := range c.Videos {
		v.Pts = pts[i] // what the writer was handed through c.Pts
		if got := f.Videos[i]; !reflect.DeepEqual(got, v) {
			t.Errorf("video %d = %+v, want %+v", i, got, v)
		}
	}
}

func TestDeterministicAndAligned(t *testing.T) {
	c, _ := sampleCache()
	a, err := os.ReadFile(writeTemp(t, c, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := sampleCache()
	b, _ := os.ReadFile(writeTemp(t, c2, Options{}))
	if !bytes.Equal(a, b) {
		t.Fatal("same input, different bytes")
	}
	c2.Config.CreatedUnix++
	d, _ := os.ReadFile(writeTemp(t, c2, Options{}))
	if bytes.Equal(a, d) {
		t.Fatal("created_unix not stored")
	}

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Store {
			t.Errorf("%s: method %d", f.Name, f.Method)
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if off%64 != 0 {
			t.Errorf("%s: data at %d, not 64-byte aligned", f.Name, off)
		}
		rc, _ := f.Open()
		data, err := io.ReadAll(rc) // archive/zip checks the CRC at EOF
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		if crc32.ChecksumIEEE(data) != f.CRC32 {
			t.Errorf("%s: CRC mismatch", f.Name)
		}
	}
	want := "vidcache/data.pkl vidcache/byteorder vidcache/data/0 vidcache/data/1 vidcache/data/2 vidcache/version"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestWriteFailureLeavesOldFile(t *testing.T) {
	c, _ := sampleCache()
	p := writeTemp(t, c, Options{})
	old, _ := os.ReadFile(p)
	bad, pts := sampleCache()
	bad.Pts = func(i int) ([]int64, error) {
		if i == 2 {
			return nil, io.ErrUnexpectedEOF
		}
		return pts[i], nil
	}
	err := WriteFile(p, bad, Options{})
	if err == nil || !strings.Contains(err.Error(), "y z.avi") {
		t.Fatalf("want an error naming the video, got %v", err)
	}
	now, _ := os.ReadFile(p)
	if !bytes.Equal(old, now) {
		t.Fatal("failed write changed the existing cache")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func TestIntEncoding(t *testing.T) {
	// Every integer width the emitter chooses must come back unchanged.
	vals := []int64{0, 1, 255, 256, 65535, 65536, -1, -129, 1<<31 - 1, -(1 << 31), 1 << 31, 1<<40 + 5, -(1 << 40), 1<<63 - 1, -1 << 63}
	c, _ := sampleCache()
	c.Videos = c.Videos[:1]
	c.Videos[0].NumFrames = int64(len(vals))
	c.Config.CreatedUnix = 1<<63 - 1
	c.Pts = func(int) ([]int64, error) { return vals, nil }
	f, err := ReadFile(writeTemp(t, c, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Videos[0].Pts, vals) || f.Config.CreatedUnix != 1<<63-1 {
		t.Fatalf("got %v / %d", f.Videos[0].Pts, f.Config.CreatedUnix)
	}
}

// peerView is what cachefmt/torchpeer/scripts/load_cache.py prints.
type peerView struct {
	Torch       string     `json:"torch"`
	Keys        []string   `json:"keys"`
	VideoPaths  []string   `json:"video_paths"`
	PathsHex    []string   `json:"video_paths_hex"`
	VideoPts    [][]int64  `json:"video_pts"`
	PtsDtypes   []string   `json:"pts_dtypes"`
	PtsStorages int        `json:"pts_storages"`
	VideoFPS    []*float64 `json:"video_fps"`
	Classes     []string   `json:"classes"`
	Labels      []int64    `json:"labels"`
	ClipCounts  []int64    `json:"clip_counts"`
	Vidcache    map[string]any
}

func checkPeerView(t *testing.T, got peerView, c *Cache, pts [][]int64) {
	t.Helper()
	wantKeys := []string{"video_paths", "video_pts", "video_fps", "classes", "labels", "clip_counts", "vidcache"}
	if !reflect.DeepEqual(got.Keys, wantKeys) {
		t.Errorf("%s: keys %v", got.Torch, got.Keys)
	}
	if got.PtsStorages != 1 || !reflect.DeepEqual(got.PtsDtypes, []string{"torch.int64"}) {
		t.Errorf("%s: pts in %d storages, dtypes %v", got.Torch, got.PtsStorages, got.PtsDtypes)
	}
	for i, v := range c.Videos {
		if got.VideoPaths[i] != v.Path || !reflect.DeepEqual(got.VideoFPS[i], v.FPS) ||
			got.Labels[i] != v.Label || got.ClipCounts[i] != v.ClipCount {
			t.Errorf("%s: video %d differs: %q %v %d %d", got.Torch, i, got.VideoPaths[i], got.VideoFPS[i], got.Labels[i], got.ClipCounts[i])
		}
		if len(got.VideoPts[i]) != len(pts[i]) || (len(pts[i]) > 0 && !reflect.DeepEqual(got.VideoPts[i], pts[i])) {
			t.Errorf("%s: pts %d = %v, want %v", got.Torch, i, got.VideoPts[i], pts[i])
		}
	}
	if !reflect.DeepEqual(got.Classes, c.Classes) {
		t.Errorf("%s: classes %v", got.Torch, got.Classes)
	}
	if got.Vidcache["split"] != "train" || got.Vidcache["frame_rate"] != 7.5 || got.Vidcache["mode"] != vocab.ModeFast.String() {
		t.Errorf("%s: vidcache dict %v", got.Torch, got.Vidcache)
	}
}

func TestLoadsInTorch(t *testing.T) {
	for _, zip64 := range []bool{false, true} {
		c, pts := sampleCache()
		p := writeTemp(t, c, Options{ForceZip64: zip64})
		dir := filepath.Dir(p)
		t.Run("torch1.13-plain", func(t *testing.T) {
			var v peerView
			torchpeer.Bookworm(t).RunJSON(t, nil, &v, "load_cache.py", p, "plain")
			checkPeerView(t, v, c, pts)
		})
		for _, mode := range []string{"weights_only", "mmap"} {
			t.Run("torch2.6-"+mode, func(t *testing.T) {
				var v peerView
				torchpeer.Trixie(t).RunJSON(t, []string{dir}, &v, "load_cache.py", p, mode)
				checkPeerView(t, v, c, pts)
			})
		}
	}
}

// TestNonUTF8Path: a path that is not UTF-8 loads in torch as the str
// os.walk gives for it (surrogateescape), and reads back byte for byte in Go.
func TestNonUTF8Path(t *testing.T) {
	c, _ := sampleCache()
	c.Videos[0].Path = "/data/k400/train/a/caf\xe9 \xff.mp4"
	p := writeTemp(t, c, Options{})
	f, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Videos[0].Path != c.Videos[0].Path {
		t.Fatalf("Go reads back %q", f.Videos[0].Path)
	}
	var v peerView
	torchpeer.Trixie(t).RunJSON(t, []string{filepath.Dir(p)}, &v, "load_cache.py", p, "weights_only")
	// os.fsencode(path) is what torchvision would open.
	if got, want := v.PathsHex[0], hex.EncodeToString([]byte(c.Videos[0].Path)); got != want {
		t.Errorf("torch loads a path that encodes to %s, want %s", got, want)
	}
}
