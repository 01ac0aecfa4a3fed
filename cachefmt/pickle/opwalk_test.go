package pickle_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/pickle"
)

func le64(n uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return string(b[:])
}

// legacyHead is a legacy torch file's first three pickles: the magic number,
// protocol version 1001 and an empty system-info dict.
const legacyHead = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19." + "\x80\x02M\xe9\x03." + "\x80\x02}q\x00."

func torchZip(t *testing.T, pkl string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(pkl))
	zw.Close()
	return buf.Bytes()
}

// TestHostileLengths gives Load and Audit pickles whose strings and frames
// declare a terabyte (or 2^63 bytes) in a file of a few dozen. gopickle
// allocates a declared length before reading, which would end the process
// with "out of memory": both must return an error naming the opcode instead.
func TestHostileLengths(t *testing.T) {
	huge := []string{
		"\x8e" + le64(1<<40),             // BINBYTES8, 1 TiB
		"\x8d" + le64(1<<63-1),           // BINUNICODE8, 2^63-1
		"\x95" + le64(1<<40) + "}q\x00.", // FRAME, 1 TiB
		"X\xff\xff\xff\xff",              // BINUNICODE, 4 GiB
		"\x8b\xff\xff\xff\x7f",           // LONG4, 2 GiB
	}
	dir := t.TempDir()
	for i, h := range huge {
		files := map[string][]byte{
			"zip":    torchZip(t, "\x80\x04"+h+"."),
			"legacy": []byte(legacyHead + "\x80\x04" + h + "." + "\x80\x02]q\x00."),
			"pickle": []byte("\x80\x04" + h + "."),
		}
		for kind, b := range files {
			p := filepath.Join(dir, kind+string(rune('a'+i)))
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := pickle.Audit(p); !errors.Is(err, pickle.ErrUnreadable) || !strings.Contains(err.Error(), "declares") {
				t.Errorf("audit %s %q: %v", kind, h[:1], err)
			}
			if kind == "pickle" {
				continue // Load reads torch files only
			}
			if _, err := cachefmt.Load(p); err == nil || !strings.Contains(err.Error(), "declares") {
				t.Errorf("load %s %q: %v", kind, h[:1], err)
			}
		}
	}
}

// TestOpWalkerSkipsWhatItChecks: arguments that fit are read (or skipped)
// exactly, so a walk ends on the STOP of a well-formed file.
func TestOpWalkerSkipsWhatItChecks(t *testing.T) {
	p := writeCache(t)
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "data.pkl") {
			rc, _ := f.Open()
			if _, err := pickle.Globals(rc, int64(f.UncompressedSize64), 1); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			rc, _ = f.Open()
			_, err := pickle.Globals(rc, int64(f.UncompressedSize64)-1, 1)
			rc.Close()
			if err == nil {
				t.Fatal("a limit one byte short of the pickle passed")
			}
			return
		}
	}
	t.Fatal("no data.pkl")
}
