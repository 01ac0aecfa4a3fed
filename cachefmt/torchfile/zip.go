package torchfile

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"sort"
	"strings"
)

// Record is one central-directory entry of a torch zip, as miniz reads it.
type Record struct {
	Name    string // full name, prefix included
	Method  uint16 // 0 stored, 8 deflated
	Flags   uint16
	CRC32   uint32
	CSize   int64 // compressed size
	USize   int64 // uncompressed size
	Header  int64 // local header offset
	Offset  int64 // data offset: local header + 30 + local name and extra lengths
	ExtAttr uint32
}

// Zip is a torch zip file's records as torch's reader (miniz) finds them.
type Zip struct {
	Prefix  string   // the archive folder: central-directory entry 0's name up to its first '/'
	Records []Record // in central-directory order
	byLower map[string]int
}

// Lookup returns the record torch's getRecord(name) reads: PREFIX/name,
// matched case-insensitively as miniz matches. Files with names that differ
// only in case are ambiguous (see Open), so the match is unique.
func (z *Zip) Lookup(name string) *Record {
	if i, ok := z.byLower[asciiLower(z.Prefix+"/"+name)]; ok {
		return &z.Records[i]
	}
	return nil
}

// Has reports whether the record names (after the prefix) include name
// exactly, as torch's get_all_records() lists them.
func (z *Zip) Has(name string) bool {
	for _, r := range z.Records {
		if strings.TrimPrefix(r.Name, z.Prefix+"/") == name {
			return true
		}
	}
	return false
}

// Reader returns the record's uncompressed bytes as a reader that yields at
// most USize bytes (stored records are read in place; deflated ones are
// inflated as they are read). It never reads outside the record's data.
func (z *Zip) Reader(ra io.ReaderAt, r *Record) io.Reader {
	raw := io.NewSectionReader(ra, r.Offset, r.CSize)
	if r.Method == 0 {
		return raw
	}
	return io.LimitReader(flate.NewReader(raw), r.USize)
}

// zip field offsets and sizes.
const (
	eocdLen        = 22
	zip64LocLen    = 20
	zip64EndLen    = 56
	cdHeaderLen    = 46
	localLen       = 30
	sigLocal       = 0x04034b50
	sigCentral     = 0x02014b50
	sigEnd         = 0x06054b50
	sigZip64End    = 0x06064b50
	sigZip64Loc    = 0x07064b50
	sigDescriptor  = 0x08074b50
	minizWindow    = 0xFFFF + eocdLen // miniz stops once this many bytes from the end were covered
	minizBlock     = 4096
	maxNameLen     = 511 // torch copies names into a 512-byte buffer
	maxZipRecords  = 1 << 20
	attrDirectory  = 0x10
	unixModeDir    = 0o040000
	unixModeTypeMk = 0o170000
)

// findEOCD finds the end record as miniz does: scanning backwards in
// 4096-byte blocks (3 bytes of overlap), the last signature with at least 22
// bytes after it, giving up once the window of 65,557 bytes was passed.
func findEOCD(ra io.ReaderAt, size int64) (int64, bool) {
	if size < eocdLen {
		return 0, false
	}
	buf := make([]byte, minizBlock)
	cur := max(size-minizBlock, 0)
	for {
		n := int(min(minizBlock, size-cur))
		if _, err := ra.ReadAt(buf[:n], cur); err != nil && err != io.EOF {
			return 0, false
		}
		for i := n - 4; i >= 0; i-- {
			if binary.LittleEndian.Uint32(buf[i:]) == sigEnd && size-(cur+int64(i)) >= eocdLen {
				return cur + int64(i), true
			}
		}
		if cur == 0 || size-cur >= minizWindow {
			return 0, false
		}
		cur = max(cur-(minizBlock-3), 0)
	}
}

// readZip reads the zip held by ra the way torch's PyTorchStreamReader and
// miniz do. What miniz could not read goes to refuse (torch raises); what
// another reader (Python's zipfile, Go's archive/zip, another miniz) would
// read differently goes to ambiguous. It returns nil when torch cannot read
// the zip at all.
//
// One function on purpose: it follows miniz's mz_zip_reader_locate_header_sig
// and mz_zip_reader_read_central_dir in their order (end record, zip64
// locator and record, central directory), and where each refusal or
// ambiguity sits in that order is part of what it checks.
func readZip(ra io.ReaderAt, size int64, refuse, ambiguous func(string, ...any)) *Zip {
	eocd, ok := findEOCD(ra, size)
	if !ok {
		refuse("no zip end record in the last %d bytes", minizWindow)
		return nil
	}
	var e [eocdLen]byte
	if _, err := ra.ReadAt(e[:], eocd); err != nil {
		refuse("end record: %v", err)
		return nil
	}
	le := binary.LittleEndian
	disk, cdDisk := uint64(le.Uint16(e[4:])), uint64(le.Uint16(e[6:]))
	onDisk, count := uint64(le.Uint16(e[8:])), uint64(le.Uint16(e[10:]))
	cdSize, cdOff := uint64(le.Uint32(e[12:])), uint64(le.Uint32(e[16:]))
	comment := int64(le.Uint16(e[20:]))
	if end := eocd + eocdLen; end != size || comment != 0 {
		ambiguous("the end record at %d is followed by %d bytes (comment length %d): other readers may take another end record or see another file there", eocd, size-end, comment)
	}
	saturated := count == 0xFFFF || onDisk == 0xFFFF || cdSize == 0xFFFFFFFF || cdOff == 0xFFFFFFFF
	cdEnd := uint64(eocd) // where the central directory must end
	var loc [zip64LocLen]byte
	zip64 := false
	if eocd >= zip64LocLen+zip64EndLen {
		if _, err := ra.ReadAt(loc[:], eocd-zip64LocLen); err == nil && le.Uint32(loc[:]) == sigZip64Loc {
			zip64 = true
		}
	}
	if zip64 {
		recAt := le.Uint64(loc[8:])
		adjacent := uint64(eocd - zip64LocLen - zip64EndLen)
		if recAt != adjacent {
			ambiguous("the zip64 locator points to %d, not to the record just before it (%d): readers differ on which they use", recAt, adjacent)
		}
		if recAt > uint64(size-zip64EndLen) {
			refuse("the zip64 locator points past the end of the file")
			return nil
		}
		var r [zip64EndLen]byte
		if _, err := ra.ReadAt(r[:], int64(recAt)); err != nil || le.Uint32(r[:]) != sigZip64End {
			refuse("no zip64 end record where the locator points (%d)", recAt)
			return nil
		}
		if le.Uint64(r[4:]) != zip64EndLen-12 {
			ambiguous("the zip64 end record declares %d bytes (extensible data)", le.Uint64(r[4:]))
		}
		if le.Uint32(loc[16:]) != 1 {
			refuse("a multi-disk zip64 archive")
			return nil
		}
		if d := le.Uint32(loc[4:]); d != 0 {
			ambiguous("the zip64 locator names disk %d for its record: Go's archive/zip then ignores the zip64 records, miniz uses them", d)
		}
		z := struct{ disk, cdDisk, onDisk, count, cdSize, cdOff uint64 }{
			uint64(le.Uint32(r[16:])), uint64(le.Uint32(r[20:])), le.Uint64(r[24:]), le.Uint64(r[32:]), le.Uint64(r[40:]), le.Uint64(r[48:])}
		// torch.save writes zip64 records with unsaturated end-record fields:
		// Go's archive/zip then reads the 32-bit values and miniz the 64-bit
		// ones, which is harmless while they agree.
		agree := func(what string, v32, sat, v64 uint64) {
			if v32 != sat && v32 != v64 {
				ambiguous("the end record's %s (%d) and the zip64 record's (%d) disagree", what, v32, v64)
			}
		}
		agree("entry count", count, 0xFFFF, z.count)
		agree("entries on this disk", onDisk, 0xFFFF, z.onDisk)
		agree("central directory size", cdSize, 0xFFFFFFFF, z.cdSize)
		agree("central directory offset", cdOff, 0xFFFFFFFF, z.cdOff)
		disk, cdDisk, onDisk, count, cdSize, cdOff = z.disk, z.cdDisk, z.onDisk, z.count, z.cdSize, z.cdOff
		cdEnd = recAt
	} else if saturated {
		ambiguous("an end-record field is saturated (0xFFFF…) but there is no zip64 locator: readers differ")
	}
	if count != onDisk || (disk|cdDisk) != 0 {
		refuse("a multi-disk zip archive")
		return nil
	}
	if count == 0 {
		refuse("an empty zip archive")
		return nil
	}
	if count > maxZipRecords || cdSize > 1<<32 {
		refuse("%d central-directory entries (%d bytes): more than vidcache reads", count, cdSize)
		return nil
	}
	if cdSize < count*cdHeaderLen || cdOff+cdSize > uint64(size) || cdOff+cdSize > uint64(eocd) {
		refuse("the central directory (%d entries, %d bytes at %d) does not fit the file", count, cdSize, cdOff)
		return nil
	}
	if cdOff+cdSize != cdEnd {
		ambiguous("the central directory at %d+%d does not end where the end records begin (%d): Python's zipfile reads the %d bytes before them instead", cdOff, cdSize, cdEnd, cdSize)
	}
	cd := make([]byte, cdSize)
	if _, err := ra.ReadAt(cd, int64(cdOff)); err != nil {
		refuse("central directory: %v", err)
		return nil
	}
	z := &Zip{byLower: map[string]int{}}
	p := cd
	for i := uint64(0); i < count; i++ {
		if len(p) < cdHeaderLen || le.Uint32(p) != sigCentral {
			refuse("central-directory entry %d is damaged", i)
			return nil
		}
		nameLen, extraLen, commentLen := int(le.Uint16(p[28:])), int(le.Uint16(p[30:])), int(le.Uint16(p[32:]))
		if len(p) < cdHeaderLen+nameLen+extraLen+commentLen {
			refuse("central-directory entry %d runs past the directory", i)
			return nil
		}
		r := Record{
			Flags: le.Uint16(p[8:]), Method: le.Uint16(p[10:]), CRC32: le.Uint32(p[16:]),
			CSize: int64(le.Uint32(p[20:])), USize: int64(le.Uint32(p[24:])),
			ExtAttr: le.Uint32(p[38:]), Header: int64(le.Uint32(p[42:])),
			Name: string(p[cdHeaderLen : cdHeaderLen+nameLen]),
		}
		if !zip64Extra(&r, p[cdHeaderLen+nameLen:cdHeaderLen+nameLen+extraLen]) {
			refuse("entry %q: a saturated size or offset without its zip64 field", r.Name)
			return nil
		}
		if commentLen != 0 {
			ambiguous("entry %q has a comment", r.Name)
		}
		p = p[cdHeaderLen+nameLen+extraLen+commentLen:]
		z.Records = append(z.Records, r)
	}
	if len(p) != 0 {
		ambiguous("the central directory holds %d bytes after its %d declared entries: Python's zipfile reads them as more entries", len(p), count)
	}
	checkRecords(ra, size, int64(cdOff), z, refuse, ambiguous)
	return z
}

// zip64Extra replaces saturated sizes and offsets with the zip64 extra
// field's values, in the order the format gives them.
func zip64Extra(r *Record, extra []byte) bool {
	need := []*int64{}
	if r.USize == 0xFFFFFFFF {
		need = append(need, &r.USize)
	}
	if r.CSize == 0xFFFFFFFF {
		need = append(need, &r.CSize)
	}
	if r.Header == 0xFFFFFFFF {
		need = append(need, &r.Header)
	}
	if len(need) == 0 {
		return true
	}
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if len(extra) < 4+n {
			return false
		}
		if id == 0x0001 {
			f := extra[4 : 4+n]
			for _, v := range need {
				if len(f) < 8 {
					return false
				}
				x := binary.LittleEndian.Uint64(f)
				if x > 1<<62 {
					return false
				}
				*v = int64(x)
				f = f[8:]
			}
			return true
		}
		extra = extra[4+n:]
	}
	return false
}

// checkRecords reads each record's local header and checks the layout: the
// records tile the file from byte 0 to the central directory (nothing
// before, between or after them that another reader could take for a file),
// local and central names agree, no two names differ only in case, no entry
// is a directory, and every name lies in the archive folder. (One loop
// over the records on purpose: the tiling check carries the end of the
// previous record from one to the next.)
func checkRecords(ra io.ReaderAt, size, cdOff int64, z *Zip, refuse, ambiguous func(string, ...any)) {
	le := binary.LittleEndian
	first, _, _ := strings.Cut(z.Records[0].Name, "/")
	if !strings.Contains(z.Records[0].Name, "/") {
		refuse("the first entry %q is not in a folder (torch: file in archive is not in a subdirectory)", z.Records[0].Name)
	}
	z.Prefix = first
	for i := range z.Records {
		r := &z.Records[i]
		lower := asciiLower(r.Name)
		if j, dup := z.byLower[lower]; dup {
			ambiguous("entries %q and %q differ at most in case: torch's lookup may take either", z.Records[j].Name, r.Name)
		} else {
			z.byLower[lower] = i
		}
		switch {
		case strings.IndexByte(r.Name, 0) >= 0:
			ambiguous("entry %q has a NUL byte in its name: readers cut it differently", r.Name)
		case len(r.Name) > maxNameLen:
			ambiguous("entry name of %d bytes: torch truncates names to %d", len(r.Name), maxNameLen)
		case strings.HasSuffix(r.Name, "/") || r.ExtAttr&attrDirectory != 0 || (r.ExtAttr>>16)&unixModeTypeMk == unixModeDir:
			ambiguous("entry %q is marked as a directory (torch reads uninitialised memory for it, other readers skip it)", r.Name)
		}
		if !strings.HasPrefix(r.Name, z.Prefix+"/") {
			refuse("entry %q is not in the archive folder %q (torch: file in archive is not in a subdirectory)", r.Name, z.Prefix)
		}
		if r.Flags&0x41 != 0 {
			refuse("entry %q is encrypted", r.Name)
		}
		if r.Method != 0 && r.Method != 8 {
			refuse("entry %q uses compression method %d (torch reads 0 and 8 only)", r.Name, r.Method)
		}
		if r.Method == 0 && r.CSize != r.USize {
			refuse("stored entry %q has different compressed and uncompressed sizes", r.Name)
		}
		var h [localLen]byte
		if r.Header > size-localLen {
			refuse("entry %q: local header at %d is past the end of the file", r.Name, r.Header)
			continue
		}
		if _, err := ra.ReadAt(h[:], r.Header); err != nil || le.Uint32(h[:]) != sigLocal {
			refuse("entry %q: no local header at %d", r.Name, r.Header)
			continue
		}
		nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
		r.Offset = r.Header + localLen + nameLen + extraLen
		if r.Offset+r.CSize > size || r.CSize < 0 {
			refuse("entry %q: data past the end of the file", r.Name)
			continue
		}
		name := make([]byte, nameLen)
		ra.ReadAt(name, r.Header+localLen)
		if string(name) != r.Name {
			ambiguous("entry %q: its local header names it %q", r.Name, name)
		}
		if m := le.Uint16(h[8:]); m != r.Method {
			ambiguous("entry %q: local method %d, central %d", r.Name, m, r.Method)
		}
	}
	// Tiling: sorted by offset, each record starts where the previous one
	// (with its data descriptor) ended, the first at 0, the last at the
	// central directory.
	order := make([]int, len(z.Records))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return z.Records[order[a]].Header < z.Records[order[b]].Header })
	at := int64(0)
	for _, i := range order {
		r := &z.Records[i]
		if r.Offset == 0 {
			return // its header was unreadable: already refused
		}
		if r.Header != at {
			ambiguous("bytes %d-%d are not part of any entry (or entries overlap at %q): another reader may find a file there", at, r.Header, r.Name)
		}
		at = r.Offset + r.CSize
		if r.Flags&0x08 != 0 {
			at += descriptorLen(ra, at, r)
		}
	}
	if at != cdOff {
		ambiguous("bytes %d-%d between the last entry and the central directory are not part of any entry", at, cdOff)
	}
}

// descriptorLen is the length of the data descriptor after a record's data
// (with or without its signature; 32- or 64-bit sizes).
func descriptorLen(ra io.ReaderAt, at int64, r *Record) int64 {
	var b [24]byte
	n, _ := ra.ReadAt(b[:], at)
	d := b[:n]
	if len(d) >= 4 && binary.LittleEndian.Uint32(d) == sigDescriptor {
		return 4 + descriptorBody(d[4:], r)
	}
	return descriptorBody(d, r)
}

func descriptorBody(d []byte, r *Record) int64 {
	le := binary.LittleEndian
	if len(d) >= 12 && le.Uint32(d) == r.CRC32 && int64(le.Uint32(d[4:])) == r.CSize && int64(le.Uint32(d[8:])) == r.USize {
		return 12
	}
	if len(d) >= 20 && le.Uint32(d) == r.CRC32 && int64(le.Uint64(d[4:])) == r.CSize && int64(le.Uint64(d[12:])) == r.USize {
		return 20
	}
	return 0
}

// HasEOCD reports whether the last 69,632 bytes of ra hold a zip end-record
// signature with room for the record after it: a reader that looks for a
// zip from the end (Python's zipfile, Go's archive/zip, unzip) finds one.
func HasEOCD(ra io.ReaderAt, size int64) bool {
	const window = 66<<10 + 4<<10
	start := max(size-window, 0)
	b := make([]byte, size-start)
	if _, err := ra.ReadAt(b, start); err != nil && err != io.EOF {
		return false
	}
	for i := bytes.LastIndex(b, []byte("PK\x05\x06")); i >= 0; i = bytes.LastIndex(b[:i], []byte("PK\x05\x06")) {
		if len(b)-i >= eocdLen {
			return true
		}
	}
	return false
}

// asciiLower lower-cases ASCII letters only, byte by byte, as miniz compares.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
