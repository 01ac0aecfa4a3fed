package bmff

import (
	"bytes"
	"encoding/binary"
)

// IndexBytesPerSample is what FFmpeg's MOV demuxer keeps per declared
// sample while it builds a stream's index: an AVIndexEntry (24 bytes) and
// a merged time-to-sample entry (12 bytes).
const IndexBytesPerSample = 36

// DeclaredSamples sums the sample counts that the stsz and stz2 boxes in
// a moov box declare — the counts FFmpeg allocates its sample index for,
// before it reads a single sample. It looks for the boxes wherever they
// are (FFmpeg reads them wherever it meets them): every "stsz"/"stz2"
// whose size field frames a box that fits. A sample-size table holds 4
// bytes a sample, so only a constant sample size lets a few bytes declare
// millions of samples.
func DeclaredSamples(moov []byte) uint64 {
	var total uint64
	for _, typ := range [][]byte{[]byte("stsz"), []byte("stz2")} {
		for i := 4; ; {
			k := bytes.Index(moov[i:], typ)
			if k < 0 {
				break
			}
			at := i + k
			i = at + 1
			size := int(binary.BigEndian.Uint32(moov[at-4 : at]))
			if size < 20 || at-4+size > len(moov) {
				continue
			}
			total += uint64(binary.BigEndian.Uint32(moov[at+12 : at+16]))
		}
	}
	return total
}

// DeclaredSamplesInFile is DeclaredSamples over every top-level moov box
// of a file (read as FFmpeg walks the top level: sizes 0 and 1 as it reads
// them, stopping at the first box it could not frame), for files that the
// native probe did not read. A moov larger than MaxMoov is not read: its
// tables can declare at most a few samples per byte.
func DeclaredSamplesInFile(r ReaderAt, size int64) uint64 {
	var total uint64
	var hdr [16]byte
	for pos, n := int64(0), 0; pos+8 <= size && n < 4*maxTop; n++ {
		got, _ := r.ReadAt(hdr[:min(16, size-pos)], pos)
		boxSize, head, typ, ok := BoxHeader(hdr[:got], size-pos)
		if !ok {
			break
		}
		if boxSize < head || boxSize > size-pos {
			boxSize = size - pos
		}
		if typ == "moov" && boxSize <= MaxMoov {
			b := make([]byte, boxSize)
			if got, _ := r.ReadAt(b, pos); int64(got) == boxSize {
				total += DeclaredSamples(b)
			}
		}
		pos += boxSize
	}
	return total
}
