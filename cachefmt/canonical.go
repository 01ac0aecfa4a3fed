package cachefmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotCanonical: the file holds what it should, but not in the bytes
// vidcache writes for it.
var ErrNotCanonical = errors.New("not the bytes vidcache writes for its contents")

// CheckCanonical compares the file at path, byte for byte, with what this
// package writes for f, its decoded contents: f.Cache encoded again
// (vidcache's writer is deterministic: same contents, same bytes). Any byte changed anywhere —
// in a zip header a reader ignores, a flag, an attribute, padding, the
// pickle or the data — either fails to decode or shows here. Only files of
// the current FormatVersion can be checked; for older ones it returns nil
// and false.
func CheckCanonical(path string, f *File) (checked bool, err error) {
	if f.Format != FormatVersion {
		return false, nil
	}
	tmp, err := os.CreateTemp("", "vidcache-verify-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var firstDiff int64 = -1
	for _, zip64 := range []bool{false, true} {
		if err := tmp.Truncate(0); err != nil {
			return false, err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
		if err := Encode(tmp, &f.Cache, Options{NoSync: true, ForceZip64: zip64}); err != nil {
			return true, fmt.Errorf("%w: cannot encode its contents: %v", ErrNotCanonical, err)
		}
		at, err := sameBytes(path, tmp)
		if err != nil {
			return false, err
		}
		if at < 0 {
			return true, nil
		}
		if firstDiff < 0 {
			firstDiff = at
		}
	}
	return true, fmt.Errorf("%w: the first difference is at byte %d", ErrNotCanonical, firstDiff)
}

// sameBytes returns -1 if the file at path equals f's contents, else the
// offset of the first difference.
func sameBytes(path string, f *os.File) (int64, error) {
	a, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	var off int64
	bufA, bufB := make([]byte, 1<<16), make([]byte, 1<<16)
	for {
		na, ea := io.ReadFull(a, bufA)
		nb, eb := io.ReadFull(f, bufB)
		if ea != nil && ea != io.EOF && ea != io.ErrUnexpectedEOF {
			return 0, ea
		}
		if eb != nil && eb != io.EOF && eb != io.ErrUnexpectedEOF {
			return 0, eb
		}
		n := min(na, nb)
		if i := firstMismatch(bufA[:n], bufB[:n]); i >= 0 {
			return off + int64(i), nil
		}
		if na != nb {
			return off + int64(n), nil
		}
		if na < len(bufA) {
			return -1, nil
		}
		off += int64(n)
	}
}

func firstMismatch(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
