package torchfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
)

// goZip writes a zip with Go's archive/zip: names and contents, stored.
func goZip(t testing.TB, entries ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := w.CreateHeader(&zip.FileHeader{Name: entries[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(entries[i+1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func open(t testing.TB, b []byte) *File {
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func record(t testing.TB, f *File, b []byte, name string) string {
	r := f.Zip.Lookup(name)
	if r == nil {
		t.Fatalf("no record %s", name)
	}
	d, err := io.ReadAll(f.Zip.Reader(bytes.NewReader(b), r))
	if err != nil {
		t.Fatal(err)
	}
	return string(d)
}

func TestZipPlain(t *testing.T) {
	b := goZip(t, "archive/data.pkl", "A", "archive/byteorder", "little", "archive/data/0", "12345678")
	f := open(t, b)
	if f.Kind != KindZip || f.Err() != nil {
		t.Fatalf("kind %v, err %v", f.Kind, f.Err())
	}
	if got := record(t, f, b, "DATA.pkl"); got != "A" {
		t.Errorf("data.pkl = %q", got)
	}
	if f.Zip.Prefix != "archive" || !f.Zip.Has("byteorder") || f.Zip.Has("BYTEORDER") {
		t.Errorf("prefix %q", f.Zip.Prefix)
	}
}

// mutate rewrites a little-endian field of b.
func put16(b []byte, at int, v uint16) { binary.LittleEndian.PutUint16(b[at:], v) }
func put32(b []byte, at int, v uint32) { binary.LittleEndian.PutUint32(b[at:], v) }

func eocdAt(b []byte) int { return bytes.LastIndex(b, []byte("PK\x05\x06")) }

func TestZipAmbiguous(t *testing.T) {
	base := func() []byte { return goZip(t, "archive/data.pkl", "A", "archive/version", "3\n") }
	cases := map[string]struct {
		make func() []byte
		want string // in the reasons
	}{
		"trailing bytes": {func() []byte { return append(base(), "junk"...) }, "followed by"},
		"comment": {func() []byte {
			b := base()
			put16(b, eocdAt(b)+20, 4)
			return append(b, "PK\x05\x06"...)
		}, "followed by"},
		"case duplicates":  {func() []byte { return goZip(t, "archive/data.pkl", "A", "archive/DATA.pkl", "B") }, "differ at most in case"},
		"exact duplicates": {func() []byte { return goZip(t, "archive/data.pkl", "A", "archive/data.pkl", "B") }, "differ at most in case"},
		"directory attribute": {func() []byte {
			b := base()
			cd := bytes.Index(b, []byte("PK\x01\x02"))
			put32(b, cd+38, 0x10)
			return b
		}, "directory"},
		"unix directory mode": {func() []byte {
			b := base()
			cd := bytes.Index(b, []byte("PK\x01\x02"))
			put32(b, cd+38, 0o040755<<16)
			return b
		}, "directory"},
		"NUL in a name": {func() []byte { return goZip(t, "archive/data.pkl", "A", "archive/data.pkl\x00x", "B") }, "NUL"},
		"gap before the central directory": {func() []byte {
			b := base()
			e := eocdAt(b)
			cdOff := binary.LittleEndian.Uint32(b[e+16:])
			nb := append(append(append([]byte{}, b[:cdOff]...), "gap!"...), b[cdOff:]...)
			put32(nb, e+4+16, cdOff+4)
			return nb
		}, "not part of any entry"},
		"local name differs": {func() []byte {
			b := base()
			b[30+len("archive/")] = 'D'
			return b
		}, "local header names it"},
		"central directory not before the end record": {func() []byte {
			// Two central directories: the end record points at the first,
			// a second copy sits right before the end record.
			b := base()
			e := eocdAt(b)
			cdOff := binary.LittleEndian.Uint32(b[e+16:])
			cd := append([]byte{}, b[cdOff:e]...)
			nb := append(append(append([]byte{}, b[:e]...), cd...), b[e:]...)
			return nb
		}, "does not end where"},
		"entries beyond the count": {func() []byte {
			b := base()
			e := eocdAt(b)
			put16(b, e+8, 1)
			put16(b, e+10, 1)
			return b
		}, "after its 1 declared entries"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := open(t, c.make())
			if len(f.Ambiguities) == 0 {
				t.Fatalf("no ambiguity found (refusals %q)", f.Refusals)
			}
			if all := strings.Join(f.Ambiguities, "; "); !strings.Contains(all, c.want) {
				t.Errorf("reasons %q, want %q", all, c.want)
			}
		})
	}
}

// zip64 records added to a plain zip: locator and record before the end record.
func withZip64(b []byte, saturate bool, shift uint64) []byte {
	e := eocdAt(b)
	le := binary.LittleEndian
	count, cdSize, cdOff := uint64(le.Uint16(b[e+10:])), uint64(le.Uint32(b[e+12:])), uint64(le.Uint32(b[e+16:]))
	var z []byte
	z = le.AppendUint32(z, sigZip64End)
	z = le.AppendUint64(z, 44)
	z = le.AppendUint16(z, 45)
	z = le.AppendUint16(z, 45)
	z = le.AppendUint32(z, 0)
	z = le.AppendUint32(z, 0)
	z = le.AppendUint64(z, count)
	z = le.AppendUint64(z, count)
	z = le.AppendUint64(z, cdSize)
	z = le.AppendUint64(z, cdOff+shift)
	z = le.AppendUint32(z, sigZip64Loc)
	z = le.AppendUint32(z, 0)
	z = le.AppendUint64(z, uint64(e))
	z = le.AppendUint32(z, 1)
	end := append([]byte{}, b[e:]...)
	if saturate {
		put32(end, 16, 0xFFFFFFFF)
	}
	return append(append(append([]byte{}, b[:e]...), z...), end...)
}

func TestZip64(t *testing.T) {
	b := goZip(t, "archive/data.pkl", "A")
	if f := open(t, withZip64(b, true, 0)); f.Err() != nil {
		t.Errorf("consistent zip64: %v", f.Err())
	} else if record(t, f, withZip64(b, true, 0), "data.pkl") != "A" {
		t.Error("wrong record")
	}
	if f := open(t, withZip64(b, false, 0)); f.Err() != nil {
		t.Errorf("zip64 agreeing with unsaturated fields (as torch.save writes): %v", f.Err())
	}
	if f := open(t, withZip64(b, false, 1)); len(f.Ambiguities) == 0 {
		t.Error("zip64 offset disagreeing with the end record: no ambiguity")
	}
}

func TestZipRefused(t *testing.T) {
	if f := open(t, goZip(t, "data.pkl", "A")); len(f.Refusals) == 0 {
		t.Error("no folder: not refused")
	}
	if f := open(t, goZip(t, "archive/data.pkl", "A", "other/x", "B")); len(f.Refusals) == 0 {
		t.Error("entry outside the folder: not refused")
	}
	if f := open(t, []byte("PK\x03\x04 not a zip")); f.Zip != nil || len(f.Refusals) == 0 {
		t.Error("no end record: not refused")
	}
}

func TestLegacyWithZipAppended(t *testing.T) {
	b := append([]byte("\x80\x02K\x01."), goZip(t, "archive/data.pkl", "A")...)
	f := open(t, b)
	if f.Kind != KindLegacy || len(f.Ambiguities) == 0 {
		t.Errorf("kind %v, ambiguities %q", f.Kind, f.Ambiguities)
	}
	if f := open(t, []byte("\x80\x02K\x01.")); f.Kind != KindLegacy || f.Err() != nil {
		t.Errorf("plain pickle: kind %v, %v", f.Kind, f.Err())
	}
}

// FuzzZip: where the torch-faithful reading finds nothing ambiguous and
// nothing torch refuses, Go's archive/zip reads the same entries, with the
// same data at the same place — the differential oracle.
func FuzzZip(f *testing.F) {
	f.Add(goZip(f, "archive/data.pkl", "A", "archive/byteorder", "little", "archive/data/0", "12345678"))
	f.Add(withZip64(goZip(f, "archive/data.pkl", "A"), true, 0))
	f.Add(goZip(f, "a/data.pkl", "\x80\x02}q\x00.", "a/DATA.pkl", "B"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil || tf.Kind != KindZip || tf.Err() != nil {
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("unambiguous for torch, but Go's archive/zip fails: %v", err)
		}
		if len(zr.File) != len(tf.Zip.Records) {
			t.Fatalf("Go reads %d entries, torch %d", len(zr.File), len(tf.Zip.Records))
		}
		for i, zf := range zr.File {
			r := tf.Zip.Records[i]
			off, err := zf.DataOffset()
			if zf.Name != r.Name || err != nil || off != r.Offset || int64(zf.CompressedSize64) != r.CSize || zf.Method != r.Method {
				t.Fatalf("entry %d: Go %q at %d (%v), torch %q at %d", i, zf.Name, off, err, r.Name, r.Offset)
			}
			if tf.Zip.Lookup(strings.TrimPrefix(r.Name, tf.Zip.Prefix+"/")) != &tf.Zip.Records[i] {
				t.Fatalf("lookup of %q finds another entry", r.Name)
			}
		}
	})
}
