package cachefmt

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// zipWriter writes a STORED-only zip in which every entry's data starts at a
// multiple of recordAlign, as torch.save does, with zip64 records where sizes
// or offsets need them. It writes to a file so a streamed entry's CRC can be
// patched into its local header afterwards (no data descriptors).
type zipWriter struct {
	f       *os.File
	w       *bufio.Writer
	off     int64
	entries []zipEntry
	// forceZip64 writes zip64 extra fields and end records even for small
	// files, so tests can check readers without writing 4 GiB.
	forceZip64 bool
}

type zipEntry struct {
	name   string
	crc    uint32
	size   int64
	offset int64 // of the local header
}

const (
	recordAlign     = 64
	localHeaderLen  = 30
	zip64Threshold  = 0xFFFFFFFF
	dosDate1980     = 1<<5 | 1 // 1980-01-01: a fixed date keeps output deterministic
	versionZip64    = 45
	versionDefault  = 20
	extraIDZip64    = 0x0001
	extraIDPadding  = 0x4246 // "FB", torch's padding block
	sigLocal        = 0x04034b50
	sigCentral      = 0x02014b50
	sigEnd          = 0x06054b50
	sigZip64End     = 0x06064b50
	sigZip64Locator = 0x07064b50
)

func newZipWriter(f *os.File) *zipWriter {
	return &zipWriter{f: f, w: bufio.NewWriterSize(f, 128<<10)}
}

func (z *zipWriter) write(b []byte) error {
	n, err := z.w.Write(b)
	z.off += int64(n)
	return err
}

// header writes a local file header for an entry of the given size and
// returns the file offset of its CRC field.
func (z *zipWriter) header(name string, size int64, crc uint32) (crcAt int64, err error) {
	zip64 := z.forceZip64 || size >= zip64Threshold
	var extra []byte
	if zip64 {
		extra = binary.LittleEndian.AppendUint16(extra, extraIDZip64)
		extra = binary.LittleEndian.AppendUint16(extra, 16)
		extra = binary.LittleEndian.AppendUint64(extra, uint64(size))
		extra = binary.LittleEndian.AppendUint64(extra, uint64(size))
	}
	dataAt := z.off + localHeaderLen + int64(len(name)) + int64(len(extra)) + 4
	pad := (recordAlign - dataAt%recordAlign) % recordAlign
	extra = binary.LittleEndian.AppendUint16(extra, extraIDPadding)
	extra = binary.LittleEndian.AppendUint16(extra, uint16(pad))
	extra = append(extra, make([]byte, pad)...)

	z.entries = append(z.entries, zipEntry{name: name, crc: crc, size: size, offset: z.off})
	h := make([]byte, 0, localHeaderLen+len(name)+len(extra))
	h = binary.LittleEndian.AppendUint32(h, sigLocal)
	h = binary.LittleEndian.AppendUint16(h, version(zip64))
	h = binary.LittleEndian.AppendUint16(h, 0) // flags
	h = binary.LittleEndian.AppendUint16(h, 0) // method: STORED
	h = binary.LittleEndian.AppendUint16(h, 0) // time
	h = binary.LittleEndian.AppendUint16(h, dosDate1980)
	crcAt = z.off + int64(len(h))
	h = binary.LittleEndian.AppendUint32(h, crc)
	sz := uint32(size)
	if zip64 {
		sz = zip64Threshold
	}
	h = binary.LittleEndian.AppendUint32(h, sz) // compressed
	h = binary.LittleEndian.AppendUint32(h, sz) // uncompressed
	h = binary.LittleEndian.AppendUint16(h, uint16(len(name)))
	h = binary.LittleEndian.AppendUint16(h, uint16(len(extra)))
	h = append(h, name...)
	h = append(h, extra...)
	return crcAt, z.write(h)
}

func version(zip64 bool) uint16 {
	if zip64 {
		return versionZip64
	}
	return versionDefault
}

// add writes an entry held in memory.
func (z *zipWriter) add(name string, data []byte) error {
	if _, err := z.header(name, int64(len(data)), crc32.ChecksumIEEE(data)); err != nil {
		return err
	}
	return z.write(data)
}

// addStream writes an entry of exactly size bytes produced by fill, then
// patches its CRC into the local header.
func (z *zipWriter) addStream(name string, size int64, fill func(w io.Writer) error) error {
	crcAt, err := z.header(name, size, 0)
	if err != nil {
		return err
	}
	start := z.off
	cw := &crcWriter{z: z, crc: crc32.NewIEEE()}
	if err := fill(cw); err != nil {
		return err
	}
	if got := z.off - start; got != size {
		return fmt.Errorf("cachefmt: entry %s: wrote %d bytes, declared %d", name, got, size)
	}
	crc := cw.crc.Sum32()
	z.entries[len(z.entries)-1].crc = crc
	if err := z.w.Flush(); err != nil {
		return err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], crc)
	_, err = z.f.WriteAt(b[:], crcAt)
	return err
}

type crcWriter struct {
	z   *zipWriter
	crc interface {
		io.Writer
		Sum32() uint32
	}
}

func (c *crcWriter) Write(b []byte) (int, error) {
	c.crc.Write(b)
	n, err := c.z.w.Write(b)
	c.z.off += int64(n)
	return n, err
}

// close writes the central directory and end records and flushes.
func (z *zipWriter) close() error {
	cdStart := z.off
	for _, e := range z.entries {
		zip64 := z.forceZip64 || e.size >= zip64Threshold || e.offset >= zip64Threshold
		var extra []byte
		if zip64 {
			extra = binary.LittleEndian.AppendUint16(extra, extraIDZip64)
			extra = binary.LittleEndian.AppendUint16(extra, 24)
			extra = binary.LittleEndian.AppendUint64(extra, uint64(e.size))
			extra = binary.LittleEndian.AppendUint64(extra, uint64(e.size))
			extra = binary.LittleEndian.AppendUint64(extra, uint64(e.offset))
		}
		sz, off := uint32(e.size), uint32(e.offset)
		if zip64 {
			sz, off = zip64Threshold, zip64Threshold
		}
		h := make([]byte, 0, 46+len(e.name)+len(extra))
		h = binary.LittleEndian.AppendUint32(h, sigCentral)
		h = binary.LittleEndian.AppendUint16(h, version(zip64)) // made by
		h = binary.LittleEndian.AppendUint16(h, version(zip64)) // needed
		h = binary.LittleEndian.AppendUint16(h, 0)
		h = binary.LittleEndian.AppendUint16(h, 0)
		h = binary.LittleEndian.AppendUint16(h, 0)
		h = binary.LittleEndian.AppendUint16(h, dosDate1980)
		h = binary.LittleEndian.AppendUint32(h, e.crc)
		h = binary.LittleEndian.AppendUint32(h, sz)
		h = binary.LittleEndian.AppendUint32(h, sz)
		h = binary.LittleEndian.AppendUint16(h, uint16(len(e.name)))
		h = binary.LittleEndian.AppendUint16(h, uint16(len(extra)))
		h = binary.LittleEndian.AppendUint16(h, 0) // comment
		h = binary.LittleEndian.AppendUint16(h, 0) // disk
		h = binary.LittleEndian.AppendUint16(h, 0) // internal attrs
		h = binary.LittleEndian.AppendUint32(h, 0) // external attrs
		h = binary.LittleEndian.AppendUint32(h, off)
		h = append(h, e.name...)
		h = append(h, extra...)
		if err := z.write(h); err != nil {
			return err
		}
	}
	cdEnd := z.off
	cdSize := cdEnd - cdStart
	n := int64(len(z.entries))
	zip64 := z.forceZip64 || n >= 0xFFFF || cdStart >= zip64Threshold || cdSize >= zip64Threshold
	var e []byte
	if zip64 {
		e = binary.LittleEndian.AppendUint32(e, sigZip64End)
		e = binary.LittleEndian.AppendUint64(e, 44) // size of the rest of this record
		e = binary.LittleEndian.AppendUint16(e, versionZip64)
		e = binary.LittleEndian.AppendUint16(e, versionZip64)
		e = binary.LittleEndian.AppendUint32(e, 0)
		e = binary.LittleEndian.AppendUint32(e, 0)
		e = binary.LittleEndian.AppendUint64(e, uint64(n))
		e = binary.LittleEndian.AppendUint64(e, uint64(n))
		e = binary.LittleEndian.AppendUint64(e, uint64(cdSize))
		e = binary.LittleEndian.AppendUint64(e, uint64(cdStart))
		e = binary.LittleEndian.AppendUint32(e, sigZip64Locator)
		e = binary.LittleEndian.AppendUint32(e, 0)
		e = binary.LittleEndian.AppendUint64(e, uint64(cdEnd))
		e = binary.LittleEndian.AppendUint32(e, 1)
	}
	cnt, cs, co := uint16(n), uint32(cdSize), uint32(cdStart)
	if zip64 {
		cnt, cs, co = 0xFFFF, zip64Threshold, zip64Threshold
	}
	e = binary.LittleEndian.AppendUint32(e, sigEnd)
	e = binary.LittleEndian.AppendUint16(e, 0)
	e = binary.LittleEndian.AppendUint16(e, 0)
	e = binary.LittleEndian.AppendUint16(e, cnt)
	e = binary.LittleEndian.AppendUint16(e, cnt)
	e = binary.LittleEndian.AppendUint32(e, cs)
	e = binary.LittleEndian.AppendUint32(e, co)
	e = binary.LittleEndian.AppendUint16(e, 0)
	if err := z.write(e); err != nil {
		return err
	}
	return z.w.Flush()
}
