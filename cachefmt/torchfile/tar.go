package torchfile

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
)

// ReadTar follows Lib/tarfile.py of Debian 12's Python 3.11.2, which torch
// 1.13's torch.load(path) tries on a non-zip file (TarFile.next, TarInfo.
// frombuf, _proc_member and its _proc_* helpers, _apply_pax_info, getmember),
// and reads the file with Go's archive/tar beside it to find disagreements.

const (
	tarBlock      = 512
	tarMaxHeaders = 1 << 16  // header blocks read (and Go entries compared)
	tarMaxSpecial = 64 << 10 // bytes of one GNU long name or pax header parsed
	tarMaxDepth   = 64       // extension headers (L, K, x, X, g) chained before a member
	tarMaxNotes   = 64       // ambiguities kept
	tarHuge       = 1 << 62  // numbers saturate here (Python's do not; such files are flagged)
)

// TarMember is one member as Python's tarfile lists it.
type TarMember struct {
	Name    string // as tarfile names it: prefix joined, GNU long name, pax path applied
	Type    byte   // typeflag ('\x00' with a name ending in '/' becomes '5', as in tarfile)
	Link    string // tarfile's linkname (the target of a '1' or '2' member)
	Header  int64  // offset of its header block, or of the extension headers before it (m.offset)
	Offset  int64  // offset of its data (m.offset_data)
	Size    int64  // m.size: may be negative or run past the end of the file (both flagged)
	HasData bool   // tarfile.extractfile gives a reader of Size bytes at Offset ('0', '\x00', '7', unknown types)
}

// Tar is a file's tar reading as torch sees it.
type Tar struct {
	Opens   bool        // tarfile.open(mode="r:") succeeds: torch takes the tar path (a first all-NUL block opens with 0 members)
	Members []TarMember // every member Python lists, in order, up to where Python stops
	// Err is set when Python raises instead of ending quietly: with Opens
	// false, why tarfile.open failed; with Opens true, what getmembers (and
	// so getmember) raises after listing Members.
	Err string
	// TarError: Err is a tarfile.TarError, after which torch unpickles the
	// file from byte 0 (even when the tar opened); any other exception (or
	// an endless loop) ends torch.load.
	TarError bool
	// Ambiguities: why another reader (Go's archive/tar, an older or newer
	// Python) could see a different archive. When there are any, the fields
	// above are this package's best reading of Python 3.11.
	Ambiguities []string
}

// Lookup returns the member torch's getmember(name) returns (the last of
// that name), or nil.
func (t *Tar) Lookup(name string) *TarMember {
	name = strings.TrimRight(name, "/")
	for i := len(t.Members) - 1; i >= 0; i-- {
		if t.Members[i].Name == name {
			return &t.Members[i]
		}
	}
	return nil
}

// ReadTar reads ra (size bytes) with Python tarfile's rules. Python's reading
// only moves forward (it stops, flagged, where tarfile would step back), so
// it reads each header, GNU long name and pax header once, allocating at most
// tarMaxSpecial bytes for one; Go's reading and the search for data after an
// end block read the file once more. Both stop after tarMaxHeaders headers.
func ReadTar(ra io.ReaderAt, size int64) *Tar {
	r := &tarReader{ra: ra, size: size, t: &Tar{}, global: map[string]string{}}
	r.walk()
	r.compareGo()
	return r.t
}

// tarErr is how reading a header fails, by tarfile's exception classes.
type tarErr struct {
	kind int
	msg  string
}

const (
	tarEmpty      = iota + 1 // EmptyHeaderError: no bytes left
	tarTruncated             // TruncatedHeaderError
	tarZero                  // EOFHeaderError: a block of NULs
	tarInvalid               // InvalidHeaderError
	tarSubsequent            // SubsequentHeaderError: a bad header after L/K/x/X/g
	tarUnmodelled            // beyond this reader (flagged); tarfile took the header
)

type tarReader struct {
	ra             io.ReaderAt
	size, offset   int64 // offset: tarfile.offset, where the next header starts
	t              *Tar
	global         map[string]string // tarfile.pax_headers (the records used here)
	headers, notes int
}

type tarInfo struct {
	name, link      string
	typ             byte
	size, hdr, data int64
}

func (r *tarReader) flag(format string, args ...any) {
	if r.notes++; r.notes < tarMaxNotes {
		r.t.Ambiguities = append(r.t.Ambiguities, fmt.Sprintf(format, args...))
	} else if r.notes == tarMaxNotes {
		r.t.Ambiguities = append(r.t.Ambiguities, "tar: more ambiguities not listed")
	}
}

// read returns up to n bytes at off, fewer at the end of the file.
func (r *tarReader) read(off, n int64) []byte {
	if off < 0 || off >= r.size || n <= 0 {
		return nil
	}
	b := make([]byte, min(n, r.size-off))
	k, _ := r.ra.ReadAt(b, off)
	return b[:k]
}

// walk is TarFile.__init__'s first next() and getmembers' later ones.
func (r *tarReader) walk() {
	t, seen, tell := r.t, map[string]bool{}, int64(0) // tell: the file position
	for first := true; ; first = false {
		if !first && r.offset != tell {
			switch {
			case r.offset == 0:
				return // next() returns None
			case r.offset < 0:
				t.Err = "OSError: [Errno 22] Invalid argument (a negative seek)"
				return
			case r.offset < tell:
				r.flag("tar: a negative size sends Python tarfile back to %d to read the same blocks again (endlessly if they lead back)", r.offset)
				t.Err = fmt.Sprintf("tarfile steps back to %d (not read further)", r.offset)
				return
			case r.offset > r.size:
				t.Err, t.TarError = "ReadError: unexpected end of data", true
				return
			}
			tell = r.offset
		}
		info, next, e := r.member(tell, 0)
		if e != nil {
			r.stop(tell, first, e)
			return
		}
		t.Opens = true
		m := TarMember{Name: info.name, Type: info.typ, Link: info.link, Header: info.hdr,
			Offset: info.data, Size: info.size, HasData: strings.IndexByte("123456LK", info.typ) < 0}
		t.Members = append(t.Members, m)
		if seen[m.Name] {
			r.flag("tar member %q at %d repeats a name: tarfile's getmember takes the last, other readers the first", m.Name, m.Header)
		}
		if seen[m.Name] = true; m.Type == '1' || m.Type == '2' {
			r.flag("tar member %q at %d is a link (type %q) to %q: extractfile and extract follow it", m.Name, m.Header, m.Type, m.Link)
		} else if m.HasData && m.Type != '0' && m.Type != 0 {
			r.flag("tar member %q at %d has type %q: tarfile still reads its data, other readers may not", m.Name, m.Header, m.Type)
		}
		if m.HasData && m.Offset+m.Size > r.size {
			r.flag("tar member %q at %d: its %d bytes of data run past the end of the file", m.Name, m.Header, m.Size)
		}
		tell = next
	}
}

// stop records how next() ends on a header that does not read.
func (r *tarReader) stop(p int64, first bool, e *tarErr) {
	t := r.t
	switch {
	case e.kind == tarZero:
		t.Opens = true
		for off, buf := p+tarBlock, make([]byte, 32<<10); off < r.size; off += int64(len(buf)) {
			n, _ := r.ra.ReadAt(buf[:min(int64(len(buf)), r.size-off)], off)
			if i := bytes.IndexFunc(buf[:n], func(c rune) bool { return c != 0 }); i >= 0 {
				r.flag("tar: a zero block at %d ends the archive for Python tarfile, but non-zero data follows at %d (tar --ignore-zeros and tarfile's ignore_zeros read on)", p, off+int64(i))
				return
			} else if n == 0 {
				return
			}
		}
	case e.kind == tarUnmodelled:
		t.Err, t.Opens = e.msg, true
	case first || e.kind == tarSubsequent:
		t.Err, t.TarError = "ReadError: "+e.msg, true
	case e.kind != tarEmpty:
		r.flag("tar header at %d: Python tarfile quietly ends the archive here (%s); Go's archive/tar reports an error, other readers may read on", p, e.msg)
	}
}

// member is TarInfo.fromtarfile at p: the member, the file position after
// its header(s), and tarfile.offset set to where the next header starts.
func (r *tarReader) member(p int64, depth int) (*tarInfo, int64, *tarErr) {
	if r.headers++; r.headers > tarMaxHeaders || depth > tarMaxDepth {
		r.flag("tar header at %d: more than %d headers or %d chained extension headers; not read further", p, tarMaxHeaders, tarMaxDepth)
		return nil, 0, &tarErr{tarUnmodelled, "header limit of this reader"}
	}
	buf := r.read(p, tarBlock)
	switch {
	case len(buf) == 0:
		return nil, 0, &tarErr{tarEmpty, "empty file"}
	case len(buf) < tarBlock:
		return nil, 0, &tarErr{tarTruncated, "truncated header"}
	case bytes.Count(buf, []byte{0}) == tarBlock:
		return nil, 0, &tarErr{tarZero, "end of file header"}
	}
	info, e := r.frombuf(buf, p)
	if e != nil {
		return nil, 0, e
	}
	pos := p + tarBlock
	switch info.typ {
	case 'L', 'K', 'x', 'g', 'X':
		return r.extension(info, pos, depth)
	case 'S':
		r.flag("tar header at %d: GNU sparse member %q: tarfile assembles its data from a sparse map (not modelled here)", p, info.name)
		return nil, 0, &tarErr{tarUnmodelled, "GNU sparse member (not modelled)"}
	}
	info.data, r.offset = pos, pos+tarSkip(info) // _proc_builtin
	if e := r.applyPax(info, r.global); e != nil {
		return nil, 0, e
	}
	if info.typ == '5' {
		info.name = strings.TrimRight(info.name, "/")
	}
	return info, pos, nil
}

var tarNumFields = [...]struct {
	name   string
	lo, hi int
}{{"checksum", 148, 156}, {"mode", 100, 108}, {"uid", 108, 116}, {"gid", 116, 124},
	{"size", 124, 136}, {"mtime", 136, 148}, {"devmajor", 329, 337}, {"devminor", 337, 345}}

// frombuf is TarInfo.frombuf on a full, non-zero block.
func (r *tarReader) frombuf(buf []byte, p int64) (*tarInfo, *tarErr) {
	info := &tarInfo{name: cstr(buf[0:100]), link: cstr(buf[157:257]), typ: buf[156], hdr: p}
	u, s := tarChecksums(buf)
	for i, f := range tarNumFields {
		if v, ok := pyNTI(buf[f.lo:f.hi]); !ok {
			return nil, &tarErr{tarInvalid, "invalid header"}
		} else if i == 0 && v != u && v != s {
			return nil, &tarErr{tarInvalid, "bad checksum"}
		} else if f.name == "size" {
			info.size = v
		}
	}
	for _, f := range tarNumFields {
		if why := tarFieldDiff(buf[f.lo:f.hi]); why != "" {
			r.flag("tar header at %d: %s field %q %s", p, f.name, buf[f.lo:f.hi], why)
		}
	}
	if info.size < 0 {
		r.flag("tar header at %d: negative size %d (Go's archive/tar and newer Pythons refuse it)", p, info.size)
	}
	if info.typ == 0 && strings.HasSuffix(info.name, "/") {
		info.typ = '5'
	}
	if info.typ == '5' {
		info.name = strings.TrimRight(info.name, "/")
	}
	if prefix := cstr(buf[345:500]); prefix != "" && strings.IndexByte("LKS", info.typ) < 0 {
		info.name = prefix + "/" + info.name
		if magic := string(buf[257:265]); magic != "ustar\x0000" {
			r.flag("tar header at %d: Python tarfile joins the prefix field %q to the name (%q) whatever the magic (%q); Go's archive/tar does not", p, prefix, info.name, magic)
		}
	}
	return info, nil
}

// extension is _proc_gnulong (L names, K links the next member) and
// _proc_pax (records of x and X apply to the next member, g's to all later).
func (r *tarReader) extension(info *tarInfo, pos int64, depth int) (*tarInfo, int64, *tarErr) {
	if depth == 0 { // (the first of a chain stands for all)
		kind := map[byte]string{'L': "GNU long name", 'K': "GNU long link name", 'x': "pax extended header", 'g': "pax global header", 'X': "Solaris extended header"}[info.typ]
		r.flag("tar header at %d: %s (type %q): Go's archive/tar, other Pythons and other readers apply it differently", info.hdr, kind, info.typ)
	}
	n := tarPad(info.size) // fileobj.read(_block(size)); negative reads to the end
	if avail := max(r.size-pos, 0); n < 0 || n > avail {
		n = avail
	}
	buf, recs := r.read(pos, min(n, tarMaxSpecial)), r.global
	if info.typ == 'L' || info.typ == 'K' {
		if i := bytes.IndexByte(buf, 0); i >= 0 {
			buf = buf[:i]
		} else if n > tarMaxSpecial {
			return nil, 0, &tarErr{tarUnmodelled, "GNU long name longer than this reader reads"}
		}
	} else if n > tarMaxSpecial {
		return nil, 0, &tarErr{tarUnmodelled, "pax header longer than this reader reads"}
	} else {
		if info.typ != 'g' {
			recs = maps.Clone(r.global)
		}
		if e := parsePax(buf, recs); e != nil {
			return nil, 0, e
		}
	}
	next, tell, e := r.member(pos+n, depth+1)
	if e != nil && e.kind < tarUnmodelled {
		return nil, 0, &tarErr{tarSubsequent, e.msg}
	} else if e != nil {
		return nil, 0, e
	}
	switch info.typ {
	case 'L':
		if next.name = string(buf); next.typ == '5' {
			next.name = strings.TrimSuffix(next.name, "/")
		}
	case 'K':
		next.link = string(buf)
	case 'x', 'X':
		if e := r.applyPax(next, recs); e != nil {
			return nil, 0, e
		}
		if _, ok := recs["size"]; ok {
			r.offset = next.data + tarSkip(next)
		}
	}
	if info.typ != 'g' {
		next.hdr = info.hdr
	}
	return next, tell, nil
}

// parsePax parses "%d %s=%s\n" records as Debian's 3.11.2 does (3.12.1 and
// older releases use a laxer regular expression), keeping those used here.
func parsePax(buf []byte, recs map[string]string) *tarErr {
	bad := &tarErr{tarInvalid, "invalid header"}
	for pos := 0; pos < len(buf) && buf[pos] != 0; {
		d := 0
		for pos+d < len(buf) && buf[pos+d] >= '0' && buf[pos+d] <= '9' {
			d++
		}
		if d == 0 || d > 20 || pos+d >= len(buf) || buf[pos+d] != ' ' {
			return bad
		}
		length, err := strconv.ParseInt(string(buf[pos:pos+d]), 10, 64)
		if err != nil || length < 5 || length > int64(len(buf)-pos) {
			return bad
		}
		end, kv := pos+int(length)-1, []byte(nil)
		if pos+d+1 < end {
			kv = buf[pos+d+1 : end]
		}
		k, v, ok := bytes.Cut(kv, []byte("="))
		if len(k) == 0 || !ok || buf[end] != '\n' {
			return bad
		}
		if key := string(k); key == "path" || key == "linkpath" || key == "size" || strings.HasPrefix(key, "GNU.sparse.") {
			recs[key] = string(v)
		}
		pos = end + 1
	}
	return nil
}

// applyPax is _apply_pax_info for the records kept.
func (r *tarReader) applyPax(info *tarInfo, recs map[string]string) *tarErr {
	for k, v := range recs {
		switch k {
		case "path":
			info.name = strings.TrimRight(v, "/")
		case "linkpath":
			info.link = v
		case "size":
			info.size, _ = pyInt(v, 10) // 0 when int() raises ValueError
		default:
			r.flag("tar member at %d: GNU sparse pax records (%s)", info.hdr, k)
			return &tarErr{tarUnmodelled, "GNU sparse pax records (not modelled)"}
		}
	}
	return nil
}

// tarSkip is how far tarfile skips after a member's header: its data for
// isreg() and unknown types.
func tarSkip(info *tarInfo) int64 {
	if strings.IndexByte("123456", info.typ) >= 0 {
		return 0
	}
	return tarPad(info.size)
}

// tarPad is TarInfo._block: n rounded up to whole blocks (towards +inf when negative).
func tarPad(n int64) int64 {
	if n > 0 {
		return (n + tarBlock - 1) / tarBlock * tarBlock
	}
	return n / tarBlock * tarBlock
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
