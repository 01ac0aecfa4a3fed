package torchfile

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Number fields as Python's tarfile and Go's archive/tar read them, and
// the comparison with Go's reading of the whole file.

func tarChecksums(b []byte) (unsigned, signed int64) {
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned, signed = unsigned+int64(c), signed+int64(int8(c))
	}
	return unsigned, signed
}

// pyNTI is tarfile's nti: base-256 after 0x80 or 0xff, else the text up to
// the first NUL, str.strip()ped, through int(s, 8).
func pyNTI(b []byte) (int64, bool) {
	if b[0] == 0x80 || b[0] == 0xff {
		var n int64
		for _, c := range b[1:] {
			if b[0] == 0xff {
				c = ^c
			}
			if n = n<<8 | int64(c); n > tarHuge>>8 {
				n = tarHuge >> 8 // saturates (flagged as base-256 anyway)
			}
		}
		if b[0] == 0xff {
			return -(n + 1), true // -(256**k - n), n complemented
		}
		return n, true
	}
	s := cstr(b)
	if strings.IndexFunc(s, func(c rune) bool { return c >= 0x80 }) >= 0 {
		return 0, false // .decode("ascii") raised
	}
	if s = strings.TrimFunc(s, func(c rune) bool { return c == ' ' || c >= '\t' && c <= '\r' || c >= 0x1c && c <= 0x1f }); s == "" {
		return 0, true
	}
	return pyInt(s, 8)
}

// pyInt is Python's int(s, base) for an ASCII s: surrounding whitespace, a
// sign, "0o" for base 8, single underscores between digits.
func pyInt(s string, base int) (int64, bool) {
	s, sign := strings.Trim(s, " \t\n\v\f\r"), ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s, sign = s[1:], s[:1]
	}
	if base == 8 && len(s) >= 2 && s[0] == '0' && s[1]|0x20 == 'o' {
		s = strings.TrimPrefix(s[2:], "_")
	}
	if s == "" || s[0] < '0' || s[0] > '9' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(sign+strings.ReplaceAll(s, "_", ""), base, 64)
	return max(min(n, tarHuge), -tarHuge), err == nil || errors.Is(err, strconv.ErrRange)
}

// goOctal reads a number field as Go's archive/tar does when its first byte
// does not have the high bit set (the checksum always).
func goOctal(b []byte) (int64, bool) {
	s := strings.Trim(string(b), " \x00")
	if s == "" {
		return 0, true
	}
	x, err := strconv.ParseUint(cstr([]byte(s)), 8, 64)
	return int64(x), err == nil
}

// tarFieldDiff says why a number field Python reads may be read otherwise.
func tarFieldDiff(b []byte) string {
	if b[0]&0x80 != 0 {
		return "is base-256 (Python tarfile reads it after 0x80/0xff only, Go's archive/tar after any high-bit byte and never for the checksum)"
	}
	py, _ := pyNTI(b)
	if g, ok := goOctal(b); !ok || g != py {
		return fmt.Sprintf("is read differently by Go's archive/tar (Python tarfile reads %d)", py)
	}
	if s := strings.Trim(cstr(b), " "); strings.Trim(s, "01234567") != "" {
		return fmt.Sprintf("is not plain octal (read as %d)", py)
	}
	return ""
}

// compareGo reads the file with Go's archive/tar and flags where it differs.
func (r *tarReader) compareGo() {
	t, sr := r.t, io.NewSectionReader(r.ra, 0, r.size)
	tr, opens := tar.NewReader(sr), false
	var got []TarMember
	var err error
	for i := 0; err == nil; i++ {
		var h *tar.Header
		if h, err = tr.Next(); err == tar.ErrInsecurePath {
			err = nil
		} else if i == tarMaxHeaders {
			err = fmt.Errorf("more than %d headers, not read further", tarMaxHeaders)
		}
		if err == nil && h.Typeflag != tar.TypeXGlobalHeader {
			off, _ := sr.Seek(0, io.SeekCurrent)
			if h.Typeflag == tar.TypeDir {
				h.Name = strings.TrimRight(h.Name, "/")
			}
			got = append(got, TarMember{Name: h.Name, Offset: off, Size: h.Size})
		}
		opens = opens || err == nil || err == io.EOF && r.size > 0
	}
	switch {
	case !t.Opens && opens:
		r.flag("tar: Python tarfile does not open the file (%s) but Go's archive/tar reads it as a tar", t.Err)
		return
	case t.Opens && !opens:
		r.flag("tar: Python tarfile opens the file but Go's archive/tar does not (%v)", err)
		return
	case !t.Opens:
		return
	}
	for i := range min(len(got), len(t.Members)) {
		if p, g := t.Members[i], got[i]; p.Name != g.Name || p.Size != g.Size || p.Offset != g.Offset {
			r.flag("tar member %d: Python tarfile reads %q (%d bytes at %d), Go's archive/tar %q (%d bytes at %d)", i, p.Name, p.Size, p.Offset, g.Name, g.Size, g.Offset)
			return
		}
	}
	switch {
	case len(got) != len(t.Members):
		r.flag("tar: Python tarfile lists %d members, Go's archive/tar %d (%v)", len(t.Members), len(got), err)
	case err != io.EOF:
		r.flag("tar: Go's archive/tar fails after the same %d members: %v", len(got), err)
	case t.Err != "":
		r.flag("tar: Python tarfile raises (%s) where Go's archive/tar ends cleanly", t.Err)
	}
}
