package bmff

import (
	"encoding/binary"
	"errors"
	"io"
)

// ReaderAt is the file, read with pread.
type ReaderAt interface {
	ReadAt(p []byte, off int64) (int, error)
}

// IO is what reading the layout cost.
type IO struct {
	Reads int
	Bytes int64
}

// Layout is a file's top level.
type Layout struct {
	Size      int64
	Brand     string   // ftyp's major brand ("" without an ftyp first)
	Moov      [2]int64 // [start, end) of the moov box
	Mdats     int      // mdat boxes
	MoovBytes []byte   // the whole moov box, header included
}

const (
	// FirstRead is the default size of the first read: one page, which
	// holds the ftyp and the next box's header, and often a small moov.
	FirstRead = 4 << 10
	// MaxMoov bounds the moov box read (FFmpeg is asked otherwise).
	MaxMoov = 64 << 20
	// tailRead: when the remaining bytes after a box are at most this
	// many, they are read in one go (the moov at the end of a file).
	tailRead = 1 << 20
	maxTop   = 64
)

// plainTop are the top-level boxes of a plain file; anything else (moof,
// meta, sidx, uuid, ...) is declined.
var plainTop = map[string]bool{"ftyp": true, "moov": true, "mdat": true, "free": true, "skip": true, "wide": true}

// reader serves byte ranges of the file from what was already read,
// reading what is missing (and counting it).
type reader struct {
	r    ReaderAt
	size int64
	segs []seg
	io   IO
}

type seg struct {
	off int64
	b   []byte
}

func (rd *reader) held(off, n int64) []byte {
	for _, s := range rd.segs {
		if off >= s.off && off+n <= s.off+int64(len(s.b)) {
			return s.b[off-s.off : off-s.off+n]
		}
	}
	return nil
}

// read reads [off, off+n) (clipped to the file) as one pread.
func (rd *reader) read(off, n int64) ([]byte, error) {
	if off+n > rd.size {
		n = rd.size - off
	}
	if n <= 0 {
		return nil, nil
	}
	b := make([]byte, n)
	got, err := rd.r.ReadAt(b, off)
	rd.io.Reads++
	rd.io.Bytes += int64(got)
	if got < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	rd.segs = append(rd.segs, seg{off, b})
	return b, nil
}

// hold makes [from, to) held in one segment: what an earlier read holds
// of its start is kept, the rest read with one read.
func (rd *reader) hold(from, to int64) error {
	if rd.held(from, to-from) != nil {
		return nil
	}
	var have []byte
	for _, s := range rd.segs {
		if from >= s.off && from < s.off+int64(len(s.b)) && s.off+int64(len(s.b))-from > int64(len(have)) {
			have = s.b[from-s.off:]
		}
	}
	rest, err := rd.read(from+int64(len(have)), to-from-int64(len(have)))
	if err != nil {
		return err
	}
	if len(have) > 0 {
		rd.segs = append(rd.segs, seg{from, append(append(make([]byte, 0, to-from), have...), rest...)})
	}
	return nil
}

// get returns [off, off+n): from what is held, else reading at least n
// bytes (more when the caller asks: want).
func (rd *reader) get(off, n, want int64) ([]byte, error) {
	if b := rd.held(off, n); b != nil {
		return b, nil
	}
	b, err := rd.read(off, max(n, want))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) < n {
		return nil, io.ErrUnexpectedEOF
	}
	return b[:n], nil
}

// BoxHeader decodes the box header at the start of hdr, for a box that has
// at most rest bytes before its parent (or the file) ends: its size (a
// size field of 0 is "to the end", as FFmpeg reads it at the top level; a
// 64-bit size comes back as it is, so it may be below 16 or negative), the
// header's length (8, or 16 with a 64-bit size) and its type. ok is false
// when hdr holds fewer than 8 bytes, or fewer than 16 for a 64-bit size.
// The top-level walks (ReadLayout, DeclaredSamplesInFile and the decoder's
// header-only planning) share it and each apply their own limits.
func BoxHeader(hdr []byte, rest int64) (size, head int64, typ string, ok bool) {
	if len(hdr) < 8 {
		return 0, 0, "", false
	}
	size, head, typ = int64(binary.BigEndian.Uint32(hdr[0:4])), 8, string(hdr[4:8])
	switch size {
	case 0:
		size = rest
	case 1:
		if len(hdr) < 16 {
			return 0, 0, typ, false
		}
		size, head = int64(binary.BigEndian.Uint64(hdr[8:16])), 16
	}
	return size, head, typ, true
}

// ReadLayout walks the top-level boxes of a file of size bytes and reads
// its moov: the first read is first bytes (FirstRead when 0), which for a
// file with its index in front and a moov that fits is the only one; with
// the index at the end, the box headers up to it, then the moov (the rest
// of the file in one read when it is at most 1 MiB). Only box headers and
// the moov are read, never sample payloads beyond the first read.
//
// It declines anything but a plain file: top-level boxes other than ftyp
// (first), moov (one), mdat, free, skip and wide; sizes below the header;
// fewer than 8 trailing bytes; a moov beyond MaxMoov or past the end of
// the file.
//
// One function on purpose: the walk is one loop over top-level boxes whose
// cases (reading ahead, holding the moov, declining) share the read state,
// in the order mov_read_default meets the boxes.
func ReadLayout(r ReaderAt, size int64, first int) (*Layout, IO, error) {
	rd := &reader{r: r, size: size}
	if first <= 0 {
		first = FirstRead
	}
	l := &Layout{Size: size, Moov: [2]int64{-1, -1}}
	if size < 16 {
		return nil, rd.io, decline("file of %d bytes", size)
	}
	if _, err := rd.read(0, int64(first)); err != nil {
		return nil, rd.io, decline("read: %v", err)
	}
	for pos, n := int64(0), 0; pos < size; n++ {
		if n == maxTop {
			return nil, rd.io, decline("more than %d top-level boxes", maxTop)
		}
		if size-pos < 8 {
			return nil, rd.io, decline("%d bytes after the last top-level box", size-pos)
		}
		hn := min(16, size-pos)
		want := int64(16)
		if size-pos <= tailRead && l.Moov[0] < 0 {
			// Likely the moov at the end: all of it in one read.
			want = size - pos
		}
		hdr, err := rd.get(pos, hn, want)
		if err != nil {
			return nil, rd.io, decline("read: %v", err)
		}
		boxSize, head, typ, ok := BoxHeader(hdr, size-pos)
		switch {
		case !ok:
			return nil, rd.io, decline("truncated 64-bit box size")
		case head == 16 && (boxSize < 16 || boxSize > 1<<62):
			return nil, rd.io, decline("64-bit box size %d", uint64(boxSize))
		}
		if boxSize < head {
			return nil, rd.io, decline("top-level %q of size %d", typ, boxSize)
		}
		if !plainTop[typ] {
			return nil, rd.io, decline("top-level %q box", printable(typ))
		}
		end := pos + boxSize
		if end > size || end < pos {
			if typ == "moov" {
				return nil, rd.io, decline("moov runs past the end of the file")
			}
			end = size
		}
		switch typ {
		case "ftyp":
			if n != 0 {
				return nil, rd.io, decline("ftyp not first")
			}
			if boxSize < 16 || head != 8 || boxSize > 4096 || (boxSize-16)%4 != 0 {
				return nil, rd.io, decline("ftyp of size %d", boxSize)
			}
			b, err := rd.get(pos, 12, 0)
			if err != nil {
				return nil, rd.io, decline("read: %v", err)
			}
			l.Brand = string(b[8:12])
		case "moov":
			if l.Moov[0] >= 0 {
				return nil, rd.io, decline("two moov boxes")
			}
			l.Moov = [2]int64{pos, end}
			if end-pos > MaxMoov {
				return nil, rd.io, decline("moov of %d bytes", end-pos)
			}
			// The moov and the next headers (ffmpeg's faststart writes
			// a free box, then the mdat) in one read of what is not held.
			if err := rd.hold(pos, min(end+32, size)); err != nil {
				return nil, rd.io, decline("read moov: %v", err)
			}
		case "mdat":
			l.Mdats++
		}
		pos = end
	}
	if l.Moov[0] < 0 {
		return nil, rd.io, decline("no moov")
	}
	if l.Brand == "" {
		return nil, rd.io, decline("no ftyp first")
	}
	l.MoovBytes = rd.held(l.Moov[0], l.Moov[1]-l.Moov[0])
	return l, rd.io, nil
}

func printable(s string) string {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return "\\x" + hex(s)
		}
	}
	return s
}

func hex(s string) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for _, c := range []byte(s) {
		out = append(out, d[c>>4], d[c&15])
	}
	return string(out)
}
