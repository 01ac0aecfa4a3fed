package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	home := t.TempDir()
	// A private copy of the dataset, so it can be changed.
	root := copySample(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "c.pt")
	if r := vc(t, home, "build", root, "--out", out, "--quiet", "--frames-per-clip", "4"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := vc(t, home, "verify", out, "--root", root); r.code != 0 || !strings.Contains(r.stdout, "OK (zip, audit, format, consistency, dataset; 16 videos)") {
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
	if r := vc(t, home, "verify", "../../cachefmt/testdata/audit/harmless.pt"); r.code != 6 {
		t.Errorf("not a vidcache file: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "../../cachefmt/testdata/audit/numpy-array.pt"); r.code != 5 {
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
