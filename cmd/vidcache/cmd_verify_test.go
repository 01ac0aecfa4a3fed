package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	home := t.TempDir()
	// A private copy of the dataset, so it can be changed.
	root := copySample(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "c.pt")
	if r := vc(t, home, "build", root, "--out", out, "--quiet", "--frames-per-clip", "4"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := vc(t, home, "verify", out, "--root", root); r.code != 0 || !strings.Contains(r.stdout, "OK (zip, audit, format, consistency, bytes, dataset; 16 videos)") {
		t.Fatalf("fresh cache: exit %d %s", r.code, r.stdout)
	}
	good, _ := os.ReadFile(out)
	broken := func(name string, edit func([]byte) []byte) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, edit(append([]byte(nil), good...)), 0o644)
		return p
	}
	// Flip one byte of the timestamps record: CRC mismatch.
	crc := broken("crc.pt", func(b []byte) []byte {
		i := bytes.Index(b, []byte("vidcache/data/0"))
		b[i+200] ^= 1
		return b
	})
	if r := vc(t, home, "verify", crc); r.code != 4 || !strings.Contains(r.stdout, "corrupt") {
		t.Errorf("CRC damage: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "../../cachefmt/pickle/testdata/audit/harmless.pt"); r.code != 6 {
		t.Errorf("not a vidcache file: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "../../cachefmt/pickle/testdata/audit/numpy-array.pt"); r.code != 5 {
		t.Errorf("unsafe file: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "main.go"); r.code != 2 {
		t.Errorf("not a zip: exit %d %s", r.code, r.stdout)
	}
	// Stale: a video replaced, then one removed.
	v := filepath.Join(root, "train", "abseiling", "h264-25fps.mp4")
	b, _ := os.ReadFile(v)
	os.WriteFile(v, append(b, 0), 0o644)
	if r := vc(t, home, "verify", out, "--root", root); r.code != 3 || !strings.Contains(r.stdout, "h264-25fps.mp4: changed since indexed") {
		t.Errorf("changed video: exit %d %s", r.code, r.stdout)
	}
	os.Remove(v)
	if r := vc(t, home, "verify", out, "--root", root, "--json"); r.code != 3 || !strings.Contains(r.stdout, `"class":"stale"`) {
		t.Errorf("removed video: exit %d %s", r.code, r.stdout)
	}
}

// TestVerifyTruncatedAndTimes: a truncated cache is corrupt (4), not
// unreadable; a changed video's mtimes are shown as times, not nanoseconds.
func TestVerifyTruncatedAndTimes(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "c.pt")
	if r := vc(t, home, "build", root, "--out", out, "--quiet"); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pt")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if r := vc(t, home, "verify", cut); r.code != exitCorrupt || !strings.Contains(r.stdout+r.stderr, "truncated") {
		t.Errorf("truncated: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.Local)
	if err := os.Chtimes(filepath.Join(root, "train", "abseiling", "h264-30fps.mp4"), later, later); err != nil {
		t.Fatal(err)
	}
	r := vc(t, home, "verify", "--root", root, out)
	if r.code != exitStale || !strings.Contains(r.stdout+r.stderr, "→2030-01-02 03:04:05.000") {
		t.Errorf("stale: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
