package torchfile

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ---- building tars byte by byte ----

// tarField writes s into b[lo:hi], NUL-padded (s may be shorter or exactly as long).
func tarField(b []byte, lo, hi int, s string) {
	clear(b[lo:hi])
	copy(b[lo:hi], s)
}

// tarSum writes the unsigned checksum the usual way ("%06o\x00 ").
func tarSum(b []byte) {
	u, _ := tarChecksums(b)
	tarField(b, 148, 156, fmt.Sprintf("%06o\x00 ", u))
}

// tarHeader is a ustar header for name with type typ and size, checksum set.
func tarHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, tarBlock)
	tarField(b, 0, 100, name)
	tarField(b, 100, 108, "0000644\x00")
	tarField(b, 108, 116, "0001750\x00")
	tarField(b, 116, 124, "0001750\x00")
	tarField(b, 124, 136, fmt.Sprintf("%011o\x00", size))
	tarField(b, 136, 148, "14712345670\x00")
	b[156] = typ
	tarField(b, 257, 265, "ustar\x0000")
	tarField(b, 265, 297, "user")
	tarField(b, 297, 329, "group")
	tarSum(b)
	return b
}

// tarEdit changes a header with f and fixes its checksum.
func tarEdit(h []byte, f func(b []byte)) []byte {
	f(h)
	tarSum(h)
	return h
}

// tarBody is data padded to whole blocks.
func tarBody(data string) []byte {
	b := []byte(data)
	return append(b, make([]byte, tarPad(int64(len(b)))-int64(len(b)))...)
}

func tarFile(name, data string) []byte {
	return cat(tarHeader(name, '0', int64(len(data))), tarBody(data))
}

func tarPaxRecord(k, v string) string {
	base := len(k) + len(v) + 3
	n := base + 1
	for n != base+len(strconv.Itoa(n)) {
		n++
	}
	return fmt.Sprintf("%d %s=%s\n", n, k, v)
}

func tarExt(typ byte, data string) []byte {
	return cat(tarHeader("././@Ext", typ, int64(len(data))), tarBody(data))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var tarEnd = make([]byte, 2*tarBlock)

func readTarBytes(b []byte) *Tar { return ReadTar(bytes.NewReader(b), int64(len(b))) }

func tarNames(t *Tar) []string {
	var s []string
	for _, m := range t.Members {
		s = append(s, m.Name)
	}
	return s
}

// ---- table tests ----

type tarCase struct {
	name   string
	file   []byte
	opens  bool
	names  []string // members, in order
	err    string   // substring of Err; "" for none
	tarErr bool
	amb    []string // substrings, each in some ambiguity; none at all if empty
	pickle int64    // if non-zero: Lookup("pickle").Offset
	pkSize int64
}

func tarCases() []tarCase {
	valid := cat(tarFile("sys_info", "S"), tarFile("pickle", "P-data"), tarFile("storages", "ST"), tarFile("tensors", "T"), tarEnd)
	field := func(name string, lo, hi int, v string) []byte {
		return tarEdit(tarHeader(name, '0', 1), func(b []byte) { tarField(b, lo, hi, v) })
	}
	sizeField := func(v string, data string) []byte {
		return cat(field("pickle", 124, 136, v), tarBody(data), tarEnd)
	}
	checksumAs := func(format string) []byte {
		h := tarHeader("pickle", '0', 1)
		u, _ := tarChecksums(h)
		tarField(h, 148, 156, fmt.Sprintf(format, u))
		return cat(h, tarBody("P"), tarEnd)
	}
	v7prefix := tarEdit(tarHeader("pickle", '0', 1), func(b []byte) { tarField(b, 257, 265, ""); tarField(b, 345, 500, "zz") })
	gnuAtime := tarEdit(tarHeader("pickle", '0', 1), func(b []byte) { tarField(b, 257, 265, "ustar  \x00"); tarField(b, 345, 357, "00000000001") })
	negative := tarEdit(tarHeader("b", '0', 0), func(b []byte) { tarField(b, 124, 136, "-1000") }) // -512
	base256 := func(first byte) []byte {
		return cat(tarEdit(tarHeader("pickle", '0', 1), func(b []byte) {
			tarField(b, 100, 108, string([]byte{first, 0, 0, 0, 0, 0, 1, 0xa4}))
		}), tarBody("P"), tarEnd)
	}
	badSum := tarHeader("pickle", '0', 1)
	tarField(badSum, 148, 156, "0000000\x00")
	long := strings.Repeat("d/", 70) + "pickle"
	return []tarCase{
		{name: "valid", file: valid, opens: true, names: []string{"sys_info", "pickle", "storages", "tensors"}, pickle: 1536, pkSize: 6},
		{name: "no end blocks", file: cat(tarFile("pickle", "P")), opens: true, names: []string{"pickle"}, pickle: 512, pkSize: 1},
		{name: "empty file", file: nil, err: "empty file", tarErr: true},
		{name: "short file", file: make([]byte, 100), err: "truncated", tarErr: true},
		{name: "pickle stream", file: append([]byte("\x80\x02\x8a\x0alp\xfc\x9cF\xf9 j\xa8P\x19."), make([]byte, 600)...), err: "ReadError", tarErr: true},
		{name: "bad checksum", file: cat(badSum, tarBody("P"), tarEnd), err: "bad checksum", tarErr: true},
		{name: "checksum not a number", file: checksumAs("12 34"), err: "invalid header", tarErr: true},
		{name: "signed checksum", file: cat(tarEdit(tarHeader("pickle", '0', 1), func(b []byte) { b[265] = 0xe9 }), tarBody("P"), tarEnd), opens: true, names: []string{"pickle"}, pickle: 512, pkSize: 1},
		{name: "zero first block", file: make([]byte, 1024), opens: true},
		{name: "zero block then legacy stream", file: append(make([]byte, 512), []byte("\x80\x02}q\x00.")...), opens: true, amb: []string{"data follows at 512", "Go's archive/tar does not"}},
		{name: "zero block inside", file: cat(tarFile("a", "A"), make([]byte, 512), tarFile("pickle", "P"), tarEnd), opens: true, names: []string{"a"}, amb: []string{"zero block at 1024", "Go's archive/tar fails"}},
		{name: "checksum 0_ style", file: checksumAs("0_%o\x00"), opens: true, names: []string{"pickle"}, amb: []string{"checksum field", "read differently by Go"}, pickle: 512, pkSize: 1},
		{name: "checksum 0o style", file: checksumAs("0o%o\x00"), opens: true, names: []string{"pickle"}, amb: []string{"checksum field"}},
		{name: "checksum signed style", file: checksumAs("+%o\x00"), opens: true, names: []string{"pickle"}, amb: []string{"checksum field"}},
		{name: "checksum leading NUL", file: checksumAs("\x00%06o"), err: "bad checksum", tarErr: true, amb: []string{"Go's archive/tar reads it as a tar"}},
		{name: "checksum spaces", file: checksumAs(" %o "), opens: true, names: []string{"pickle"}},
		{name: "size 0_12", file: sizeField("0_12", "0123456789"), opens: true, names: []string{"pickle"}, amb: []string{`size field "0_12`, "Go's archive/tar does not"}, pickle: 512, pkSize: 10},
		{name: "size with leading NULs", file: sizeField("\x00\x00\x0012", "0123456789"), opens: true, names: []string{"pickle"}, amb: []string{"size field", "read differently by Go's archive/tar (Python tarfile reads 0)", "header at 512: Python tarfile quietly ends"}},
		{name: "size +12", file: sizeField(" +12 ", "0123456789"), opens: true, names: []string{"pickle"}, amb: []string{"size field"}, pickle: 512, pkSize: 10},
		{name: "size 12 34", file: sizeField("12 34", "0123456789"), err: "invalid header", tarErr: true},
		{name: "size garbage after NUL", file: sizeField("12\x00zz", "0123456789"), opens: true, names: []string{"pickle"}, pickle: 512, pkSize: 10},
		{name: "size \\x1c", file: sizeField("\x1c12\x1f", "0123456789"), opens: true, names: []string{"pickle"}, amb: []string{"size field"}},
		{name: "mode base-256 0x81", file: base256(0x81), err: "invalid header", tarErr: true, amb: []string{"Go's archive/tar reads it as a tar"}},
		{name: "mode base-256 0x80", file: base256(0x80), opens: true, names: []string{"pickle"}, amb: []string{"mode field", "base-256"}},
		{name: "mode base-256 0xff", file: base256(0xff), opens: true, names: []string{"pickle"}, amb: []string{"mode field", "base-256"}},
		{name: "V7 prefix", file: cat(tarFile("pickle", "P"), v7prefix, tarBody("V"), tarEnd), opens: true, names: []string{"pickle", "zz/pickle"}, amb: []string{`prefix field "zz"`}, pickle: 512, pkSize: 1},
		{name: "GNU octal atime", file: cat(tarFile("pickle", "P"), gnuAtime, tarBody("G"), tarEnd), opens: true, names: []string{"pickle", "00000000001/pickle"}, amb: []string{"prefix field"}, pickle: 512},
		{name: "ustar prefix", file: cat(tarEdit(tarHeader("pickle", '0', 1), func(b []byte) { tarField(b, 345, 500, "dir") }), tarBody("P"), tarEnd), opens: true, names: []string{"dir/pickle"}},
		{name: "Solaris X path", file: cat(tarFile("pickle", "P"), tarExt('X', tarPaxRecord("path", "pickle")), tarFile("decoy", "X"), tarEnd), opens: true, names: []string{"pickle", "pickle"}, amb: []string{"Solaris extended header (type 'X')", "Go's archive/tar \"././@Ext\""}, pickle: 2560, pkSize: 1},
		{name: "pax x path and size", file: cat(tarExt('x', tarPaxRecord("path", "pickle/")+tarPaxRecord("size", "3")), tarFile("decoy", "XYZ--"), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"type 'x'"}, pickle: 1536, pkSize: 3},
		{name: "pax bad size", file: cat(tarExt('x', tarPaxRecord("size", "abc")), tarFile("pickle", ""), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"type 'x'"}},
		{name: "pax global", file: cat(tarExt('g', tarPaxRecord("path", "pickle")), tarFile("a", "A"), tarFile("b", "B"), tarEnd), opens: true, names: []string{"pickle", "pickle"}, amb: []string{"type 'g'"}, pickle: 2560},
		{name: "pax bad record first", file: cat(tarExt('x', "8 path=a\n"), tarFile("pickle", "P"), tarEnd), err: "invalid header", tarErr: true, amb: []string{"pax extended header"}},
		{name: "pax bad record later", file: cat(tarFile("a", "A"), tarExt('x', "3 a=\n"), tarFile("pickle", "P"), tarEnd), opens: true, names: []string{"a"}, amb: []string{"type 'x'", "quietly ends"}},
		{name: "pax then garbage", file: cat(tarFile("a", "A"), tarExt('x', tarPaxRecord("path", "p")), make([]byte, 512), tarEnd), opens: true, names: []string{"a"}, err: "ReadError", tarErr: true, amb: []string{"type 'x'"}},
		{name: "GNU long name", file: cat(tarExt('L', long+"\x00"), tarFile("decoy", "P"), tarEnd), opens: true, names: []string{long}, amb: []string{"GNU long name"}},
		{name: "GNU long name at end", file: cat(tarFile("a", "A"), tarExt('L', "pickle")), opens: true, names: []string{"a"}, err: "ReadError", tarErr: true, amb: []string{"GNU long name"}},
		{name: "GNU long name first, nothing after", file: tarExt('L', "pickle"), err: "ReadError", tarErr: true, amb: []string{"GNU long name"}},
		{name: "GNU long name chain", file: cat(bytes.Repeat(tarExt('L', "pickle"), 70), tarFile("decoy", "P"), tarEnd), opens: true, err: "header limit", amb: []string{"GNU long name", "chained extension headers"}},
		{name: "GNU long name too long", file: cat(tarExt('L', strings.Repeat("n", 70000)), tarFile("decoy", "P"), tarEnd), opens: true, err: "longer than", amb: []string{"GNU long name"}},
		{name: "pax then GNU long name", file: cat(tarExt('x', tarPaxRecord("path", "pickle")), tarExt('L', "long"), tarFile("decoy", "P"), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"pax extended header"}, pickle: 2560},
		{name: "GNU long name then pax", file: cat(tarExt('L', "pickle"), tarExt('x', tarPaxRecord("path", "other")), tarFile("decoy", "P"), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"GNU long name"}, pickle: 2560},
		{name: "pax global size", file: cat(tarExt('g', tarPaxRecord("size", "3")), tarFile("pickle", "ABCDEFG"), tarFile("b", "B"), tarEnd), opens: true, names: []string{"pickle", "b"}, amb: []string{"pax global header"}, pickle: 1536, pkSize: 3},
		{name: "pax GNU sparse", file: cat(tarExt('x', tarPaxRecord("GNU.sparse.size", "10")), tarFile("pickle", "P"), tarEnd), opens: true, err: "not modelled", amb: []string{"pax extended header", "GNU sparse"}},
		{name: "GNU sparse member", file: cat(tarHeader("pickle", 'S', 1), tarBody("P"), tarEnd), opens: true, err: "not modelled", amb: []string{"GNU sparse member"}},
		{name: "duplicates", file: cat(tarFile("pickle", "A"), tarFile("pickle", "BB"), tarEnd), opens: true, names: []string{"pickle", "pickle"}, amb: []string{"repeats a name"}, pickle: 1536, pkSize: 2},
		{name: "symlink", file: cat(tarFile("x", "P"), tarEdit(tarHeader("pickle", '2', 0), func(b []byte) { tarField(b, 157, 257, "x") }), tarEnd), opens: true, names: []string{"x", "pickle"}, amb: []string{"is a link"}},
		{name: "contiguous type", file: cat(tarEdit(tarHeader("pickle", '7', 1), func([]byte) {}), tarBody("P"), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"type '7'"}, pickle: 512},
		{name: "unknown type", file: cat(tarHeader("pickle", 'Z', 1), tarBody("P"), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"type 'Z'"}, pickle: 512},
		{name: "directory", file: cat(tarHeader("d//", 0, 0), tarHeader("pickle", '5', 0), tarEnd), opens: true, names: []string{"d", "pickle"}},
		{name: "data past end", file: cat(tarHeader("pickle", '0', 5000), tarBody("P")), opens: true, names: []string{"pickle"}, err: "unexpected end of data", tarErr: true, amb: []string{"run past the end"}},
		{name: "data to the end", file: cat(tarHeader("pickle", '0', 512), tarBody("P")), opens: true, names: []string{"pickle"}},
		{name: "bad header after first", file: cat(tarFile("pickle", "P"), []byte(strings.Repeat("junk", 128)), tarEnd), opens: true, names: []string{"pickle"}, amb: []string{"header at 1024", "quietly ends"}},
		{name: "truncated header after first", file: cat(tarFile("pickle", "P"), tarHeader("x", '0', 0)[:300]), opens: true, names: []string{"pickle"}, amb: []string{"quietly ends"}},
		{name: "negative size first", file: cat(negative, tarFile("pickle", "P"), tarEnd), opens: true, names: []string{"b"}, amb: []string{"negative size"}},
		{name: "negative size loops", file: cat(tarFile("a", "A"), negative, tarEnd), opens: true, names: []string{"a", "b"}, err: "steps back", amb: []string{"negative size", "back to 1024"}},
	}
}

func TestTarRead(t *testing.T) {
	for _, c := range tarCases() {
		t.Run(c.name, func(t *testing.T) {
			got := readTarBytes(c.file)
			if got.Opens != c.opens {
				t.Errorf("Opens = %v, want %v (Err %q)", got.Opens, c.opens, got.Err)
			}
			if names := tarNames(got); fmt.Sprint(names) != fmt.Sprint(c.names) {
				t.Errorf("members %q, want %q", names, c.names)
			}
			if (c.err == "") != (got.Err == "") || !strings.Contains(got.Err, c.err) || got.TarError != c.tarErr {
				t.Errorf("Err %q (TarError %v), want %q (%v)", got.Err, got.TarError, c.err, c.tarErr)
			}
			all := strings.Join(got.Ambiguities, "\n")
			if len(c.amb) == 0 && all != "" {
				t.Errorf("unexpected ambiguities:\n%s", all)
			}
			for _, a := range c.amb {
				if !strings.Contains(all, a) {
					t.Errorf("no ambiguity mentions %q; have:\n%s", a, all)
				}
			}
			if c.pickle != 0 {
				m := got.Lookup("pickle")
				if m == nil || m.Offset != c.pickle || (c.pkSize != 0 && m.Size != c.pkSize) || !m.HasData {
					t.Errorf("Lookup(pickle) = %+v, want data at %d size %d", m, c.pickle, c.pkSize)
				}
			}
		})
	}
}

func TestTarNumbers(t *testing.T) {
	for _, c := range []struct {
		in      string
		py      int64
		pyOK    bool
		goV     int64
		goOK    bool
		flagged bool
	}{
		{"0000644\x00", 420, true, 420, true, false},
		{" 644 \x00 ", 420, true, 420, true, false},
		{"644\x00junk", 420, true, 420, true, false},
		{"", 0, true, 0, true, false},
		{"0_12", 10, true, 0, false, true},
		{"0o12", 10, true, 0, false, true},
		{"-12", -10, true, 0, false, true},
		{"\x00\x0012", 0, true, 10, true, true},
		{"12\t", 10, true, 0, false, true},
		{"\x1c12", 10, true, 0, false, true},
		{"12 34", 0, false, 0, false, true},
		{"8", 0, false, 0, false, true},
		{"_12", 0, false, 0, false, true},
		{"0o", 0, false, 0, false, true},
		{"\xe9", 0, false, 0, false, true},
	} {
		b := make([]byte, 8)
		copy(b, c.in)
		py, pyOK := pyNTI(b)
		g, gOK := goOctal(b)
		if py != c.py || pyOK != c.pyOK || (gOK && g != c.goV) || gOK != c.goOK {
			t.Errorf("%q: Python %d %v, Go %d %v; want %d %v, %d %v", c.in, py, pyOK, g, gOK, c.py, c.pyOK, c.goV, c.goOK)
		}
		if pyOK {
			if flagged := tarFieldDiff(b) != ""; flagged != c.flagged {
				t.Errorf("%q: flagged %v", c.in, flagged)
			}
		}
	}
	for in, want := range map[string]int64{"\x80\x00\x00\x00\x00\x00\x01\x00": 256, "\xff\xff\xff\xff\xff\xff\xff\xff": -1, "\xff\xff\xff\xff\xff\xff\xfe\x00": -512} {
		if v, ok := pyNTI([]byte(in)); !ok || v != want {
			t.Errorf("%x: %d %v, want %d", in, v, ok, want)
		}
	}
	for _, n := range []int64{-1, -511, -512, -513, 0, 1, 512, 513} {
		want := (n + 511) / 512 * 512 // ceil for positive numbers
		if n <= 0 {
			want = -((-n) / 512 * 512)
		}
		if got := tarPad(n); got != want {
			t.Errorf("tarPad(%d) = %d, want %d", n, got, want)
		}
	}
}

// ---- differential test against Python's tarfile ----

const tarPython = `
import json, os, sys, tarfile
d, limit = sys.argv[1], int(sys.argv[2])
for fn in sorted(os.listdir(d), key=int):
    r = {"opens": False, "err": "", "tarerror": False, "limit": False, "members": []}
    with open(os.path.join(d, fn), "rb") as f:
        tf = None
        try:
            tf = tarfile.open(fileobj=f, mode="r:")
            r["opens"] = True
            while not tf._loaded:  # getmembers(), with a limit
                if len(tf.members) >= limit:
                    r["limit"] = True
                    break
                if tf.next() is None:
                    break
        except Exception as e:
            r["err"] = type(e).__name__ + ": " + str(e)
            r["tarerror"] = isinstance(e, tarfile.TarError)
        if tf is not None:
            r["members"] = [[m.name.encode("utf-8", "surrogateescape").hex(), m.type.hex(), m.offset, m.offset_data, m.size] for m in tf.members]
    print(json.dumps(r))
`

type pyTar struct {
	Opens    bool    `json:"opens"`
	Err      string  `json:"err"`
	TarError bool    `json:"tarerror"`
	Limit    bool    `json:"limit"`
	Members  [][]any `json:"members"`
}

// runPythonTar reads every file with python's tarfile.
func runPythonTar(t *testing.T, python string, files [][]byte) []pyTar {
	dir := t.TempDir()
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(python, "-c", tarPython, dir, "3000")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	var res []pyTar
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	for {
		var r pyTar
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	if len(res) != len(files) {
		t.Fatalf("%s: %d results for %d files", python, len(res), len(files))
	}
	return res
}

// tarDiff says how Python's reading differs from ReadTar's, "" if it does not.
func tarDiff(py pyTar, got *Tar) string {
	switch {
	case py.Limit:
		return "Python lists members without end"
	case py.Opens != got.Opens:
		return fmt.Sprintf("Python opens %v (%s), ReadTar %v (%s)", py.Opens, py.Err, got.Opens, got.Err)
	case (py.Err != "") != (got.Err != "") || py.TarError != got.TarError:
		return fmt.Sprintf("Python raises %q (TarError %v), ReadTar %q (%v)", py.Err, py.TarError, got.Err, got.TarError)
	case len(py.Members) != len(got.Members):
		return fmt.Sprintf("Python lists %d members, ReadTar %d", len(py.Members), len(got.Members))
	}
	for i, pm := range py.Members {
		m := got.Members[i]
		mine := []string{hex.EncodeToString([]byte(m.Name)), hex.EncodeToString([]byte{m.Type}),
			strconv.FormatInt(m.Header, 10), strconv.FormatInt(m.Offset, 10), strconv.FormatInt(m.Size, 10)}
		if fmt.Sprint(pm) != fmt.Sprint(mine) {
			return fmt.Sprintf("member %d: Python %v, ReadTar %v", i, pm, mine)
		}
	}
	return ""
}

func TestTarDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import tarfile").Run(); err != nil {
		t.Skipf("%s has no tarfile: %v", python, err)
	}
	files := tarCorpus(rand.New(rand.NewPCG(1, 2)), 4000)
	pythons := []string{python}
	if extra := os.Getenv("TORCHFILE_TAR_PYTHONS"); extra != "" {
		pythons = append(pythons, strings.Split(extra, ":")...) // other versions: only the invariant is checked
	}
	for _, py := range pythons {
		res := runPythonTar(t, py, files)
		var opens, ambiguous, differ, clean int
		for i, f := range files {
			got := readTarBytes(f)
			d := tarDiff(res[i], got)
			if res[i].Opens {
				opens++
			}
			if len(got.Ambiguities) > 0 {
				ambiguous++
			} else {
				clean++
			}
			if d == "" {
				continue
			}
			differ++
			if len(got.Ambiguities) == 0 {
				t.Errorf("%s, file %d (%d bytes): %s, and ReadTar reports no ambiguity\n%s", py, i, len(f), d, hex.Dump(f[:min(len(f), 1024)]))
			}
		}
		t.Logf("%s: %d files, %d open as tars, %d read with ambiguities, %d without; %d differ from ReadTar (all flagged)", py, len(files), opens, ambiguous, clean, differ)
	}
}

// tarCorpus is valid tars from Go's tar.Writer, the table cases and
// mutations of both.
func tarCorpus(rng *rand.Rand, n int) [][]byte {
	var files [][]byte
	for _, c := range tarCases() {
		files = append(files, c.file)
	}
	var bases [][]byte
	for len(bases) < 200 {
		if b := tarRandomValid(rng); b != nil {
			bases = append(bases, b)
		}
	}
	for _, c := range tarCases() {
		if len(c.file) > 0 {
			bases = append(bases, c.file)
		}
	}
	files = append(files, bases...)
	for len(files) < n {
		f := bytes.Clone(bases[rng.IntN(len(bases))])
		for range 1 + rng.IntN(3) {
			f = tarMutate(rng, f)
		}
		files = append(files, f)
	}
	return files
}

var tarTestNames = []string{"pickle", "storages", "tensors", "sys_info", "a/b/c", "dir/", "./pickle", "pickle/", "é", strings.Repeat("n", 99), strings.Repeat("long/", 30) + "pickle"}

func tarRandomValid(rng *rand.Rand) []byte {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	format := []tar.Format{tar.FormatUnknown, tar.FormatUSTAR, tar.FormatPAX, tar.FormatGNU}[rng.IntN(4)]
	for range rng.IntN(5) + 1 {
		h := &tar.Header{Name: tarTestNames[rng.IntN(len(tarTestNames))], Mode: 0o644, Format: format, Typeflag: tar.TypeReg}
		switch rng.IntN(8) {
		case 0:
			h.Typeflag = tar.TypeDir
		case 1:
			h.Typeflag, h.Linkname = tar.TypeSymlink, "pickle"
		case 2:
			h.Typeflag, h.Linkname = tar.TypeLink, "pickle"
		case 3:
			h.Typeflag = tar.TypeCont
		}
		if format == tar.FormatPAX && rng.IntN(3) == 0 {
			h.PAXRecords = map[string]string{"comment": "x", "path": tarTestNames[rng.IntN(len(tarTestNames))]}
		}
		var data []byte
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeCont {
			data = make([]byte, rng.IntN(1300))
			for i := range data {
				data[i] = byte('a' + rng.IntN(26))
			}
			h.Size = int64(len(data))
		}
		if w.WriteHeader(h) != nil {
			return nil
		}
		w.Write(data)
	}
	if w.Close() != nil {
		return nil
	}
	b := buf.Bytes()
	if rng.IntN(3) == 0 { // as many writers do: pad to 10240-byte records
		b = append(b, make([]byte, 10240-len(b)%10240)...)
	}
	return b
}

var tarTricks = []string{"0_12", " +12 ", "-1000", "-12", "0o17", "\x00\x00\x0012", "12 34", "  ", "", "0000644\x00junk", "\x1c12", "12\t",
	"\x80\x00\x00\x00\x00\x00\x02\x00", "\xff\xff\xff\xff\xff\xff\xfe\x00", "\x81\x00\x00\x00\x00\x00\x00\x01", "77777777777", "9", "0x12",
	"+0o1_2", "   12   ", "-0", "1__2", "\x00", "0", "1", "2000", "\x80", "\xff"}

var tarPaxPieces = []string{"path=pickle", "path=", "path=pickle//", "size=0", "size=3", "size=-512", "size= 7 ", "size=1_0", "size=x",
	"linkpath=pickle", "comment=hi", "hdrcharset=BINARY", "GNU.sparse.size=10", "mtime=1.5", "uid=abc"}

func tarMutate(rng *rand.Rand, f []byte) []byte {
	blocks := len(f) / tarBlock
	if blocks == 0 || rng.IntN(20) == 0 {
		switch rng.IntN(3) {
		case 0:
			return f[:rng.IntN(len(f)+1)]
		case 1:
			return append(f, bytes.Repeat([]byte{byte(rng.IntN(256))}, rng.IntN(1100))...)
		default:
			return append(f, tarBody(strings.Repeat("z", rng.IntN(600)))...)
		}
	}
	// a header, preferably: a block with a valid checksum
	at := rng.IntN(blocks) * tarBlock
	for range 8 {
		b := f[at : at+tarBlock]
		if v, ok := pyNTI(b[148:156]); ok {
			if u, s := tarChecksums(b); v == u || v == s {
				break
			}
		}
		at = rng.IntN(blocks) * tarBlock
	}
	h := f[at : at+tarBlock]
	fix := rng.IntN(8) != 0
	insert := func(parts ...[]byte) []byte { return cat(f[:at], cat(parts...), f[at:]) }
	switch rng.IntN(11) {
	case 0: // random bytes
		for range 1 + rng.IntN(3) {
			h[rng.IntN(tarBlock)] = byte(rng.IntN(256))
		}
	case 1: // a number field
		fd := tarNumFields[rng.IntN(len(tarNumFields))]
		v := tarTricks[rng.IntN(len(tarTricks))]
		if len(v) > fd.hi-fd.lo {
			v = v[:fd.hi-fd.lo]
		}
		tarField(h, fd.lo, fd.hi, v)
		if fd.name == "checksum" {
			fix = false
		}
	case 2: // checksum spelled another way
		u, s := tarChecksums(h)
		if rng.IntN(4) == 0 {
			u = s
		}
		formats := []string{"%06o\x00 ", "%o", " %o ", "0_%o", "+%o", "0o%o", "\x00%06o", "%07o", "%08o", "-%o", "%o\x00zz"}
		tarField(h, 148, 156, fmt.Sprintf(formats[rng.IntN(len(formats))], u))
		if rng.IntN(6) == 0 {
			h[148], h[149], h[150], h[151], h[152], h[153], h[154], h[155] = 0x80, 0, 0, 0, 0, 0, byte(u>>8), byte(u)
		}
		return f
	case 3: // typeflag
		h[156] = "0\x001234567LKSxgXZ5"[rng.IntN(17)]
	case 4: // prefix and magic
		tarField(h, 345, 500, []string{"", "zz", "a/b", "pickle"}[rng.IntN(4)])
		tarField(h, 257, 265, []string{"ustar\x0000", "ustar  \x00", "", "ustar\x00xx", "ustar\x00\x00\x00"}[rng.IntN(5)])
		if rng.IntN(3) == 0 {
			tarField(h, 345, 357, "00000000001")
		}
	case 5: // a block inserted
		blk := make([]byte, tarBlock)
		switch rng.IntN(3) {
		case 1:
			for i := range blk {
				blk[i] = byte(rng.IntN(256))
			}
		case 2:
			copy(blk, f[rng.IntN(blocks)*tarBlock:])
		}
		return insert(blk)
	case 6: // an extended header before this one
		var recs string
		for range 1 + rng.IntN(3) {
			p := tarPaxPieces[rng.IntN(len(tarPaxPieces))]
			k, v, _ := strings.Cut(p, "=")
			rec := tarPaxRecord(k, v)
			if rng.IntN(8) == 0 { // break the framing
				rec = strings.Replace(rec, "\n", "", 1)
			}
			recs += rec
		}
		ext := tarExt("xXgx"[rng.IntN(4)], recs)
		if rng.IntN(8) == 0 {
			tarField(ext, 124, 136, fmt.Sprintf("%011o", rng.IntN(3000)))
			tarSum(ext)
		}
		return insert(ext)
	case 7: // a GNU long name or link
		name := tarTestNames[rng.IntN(len(tarTestNames))]
		if rng.IntN(2) == 0 {
			name += "\x00"
		}
		return insert(tarExt("LLK"[rng.IntN(3)], name))
	case 8: // a member repeated
		return insert(tarFile(tarTestNames[rng.IntN(3)], "dup"))
	case 9: // a size that moves the next header
		tarField(h, 124, 136, fmt.Sprintf("%011o", rng.IntN(len(f)+2000)))
	case 10: // truncation
		return f[:at+rng.IntN(len(f)-at+1)]
	}
	if fix {
		tarSum(h)
	}
	return f
}

// ---- fuzzing ----

type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return c.r.ReadAt(p, off)
}

func FuzzReadTar(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 4 {
		if b := tarRandomValid(rng); b != nil {
			f.Add(b)
		}
	}
	for _, c := range tarCases()[:12] {
		f.Add(c.file)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cr := &countingReaderAt{r: bytes.NewReader(b)}
		got := ReadTar(cr, int64(len(b)))
		if limit := 4*int64(len(b)) + 64<<10; cr.n > limit {
			t.Errorf("read %d bytes of a %d-byte file", cr.n, len(b))
		}
		if len(got.Members) > tarMaxHeaders || len(got.Ambiguities) > tarMaxNotes {
			t.Errorf("%d members, %d ambiguities", len(got.Members), len(got.Ambiguities))
		}
		if !got.Opens && (len(got.Members) > 0 || got.Err == "") {
			t.Errorf("does not open, but %d members, Err %q", len(got.Members), got.Err)
		}
		for _, m := range got.Members {
			if m.Offset < m.Header+tarBlock {
				t.Errorf("member %+v: data before the end of its header", m)
			}
		}
		got.Lookup("pickle")
	})
}
