package decoder

import (
	"github.com/vidcache/vidcache/decoder/bmff"
)

// The top-level box walk that finds a plain MP4's sample payloads.

// Top-level ISO BMFF boxes that header-only probing accepts: the header,
// the media data, and padding. Anything else — moof (fragments), meta
// (items), sidx, mfra, a type FFmpeg might treat specially — means the file
// is read in full.
var plainBoxes = map[string]bool{"ftyp": true, "moov": true, "mdat": true, "free": true, "skip": true, "wide": true}

// maxTopBoxes bounds the top-level walk.
const maxTopBoxes = 64

// topBoxes is what the top-level walk finds in a plain file.
type topBoxes struct {
	ranges    []int64  // the mdat payloads, [start, end) pairs clipped to the file
	moov      [2]int64 // the moov box, clipped to the file
	moovWhole bool     // the moov's own size ends within the file
}

// mdatPayloads walks the top-level boxes with read (pread-like), or reports
// ok=false when the file is not a plain, unfragmented ISO BMFF file with
// one moov. It refuses every ambiguous layout (sizes below the header, a
// 64-bit size below 16); size 0 is "to the end of the file", as FFmpeg
// reads it at the top level.
func mdatPayloads(read func([]byte, int64) (int, error), size int64) (t topBoxes, ok bool) {
	var hdr [16]byte
	moovs := 0
	for pos, n := int64(0), 0; pos < size; n++ {
		if n == maxTopBoxes || size-pos < 8 {
			return t, false
		}
		got, err := read(hdr[:], pos)
		if err != nil {
			return t, false
		}
		boxSize, head, typ, ok := bmff.BoxHeader(hdr[:got], size-pos)
		if !ok || (head == 16 && (boxSize < 16 || boxSize > 1<<62)) || boxSize < head || !plainBoxes[typ] {
			return t, false
		}
		end := pos + boxSize
		whole := end <= size && end >= pos
		if !whole {
			end = size // a truncated last box
		}
		if typ == "moov" {
			moovs++
			t.moov, t.moovWhole = [2]int64{pos, end}, whole
		}
		if typ == "mdat" && pos+head < end {
			t.ranges = append(t.ranges, pos+head, end)
		}
		pos = end
	}
	return t, moovs == 1
}

// topLevel is the file's top-level walk (mdatPayloads), done once.
func (f *fileIO) topLevel() (topBoxes, bool) {
	if !f.walked {
		f.top, f.topOK = mdatPayloads(f.pread, f.size)
		f.walked = true
	}
	return f.top, f.topOK
}

// moovWhole reports whether the file is plain (see mdatPayloads) and its
// moov box ends within the file: a truncated moov leaves FFmpeg with part
// of the sample tables, where what stream info, GENPTS and the parsers do
// with them is not what the header alone says (FuzzProbe: a packet more
// without them).
func (f *fileIO) moovWhole() bool {
	t, ok := f.topLevel()
	return ok && t.moovWhole
}
