package decoder

import (
	"encoding/binary"
)

// The top-level box walk that finds a plain MP4's sample payloads.

// Top-level ISO BMFF boxes that header-only probing accepts: the header,
// the media data, and padding. Anything else — moof (fragments), meta
// (items), sidx, mfra, a type FFmpeg might treat specially — means the file
// is read in full.
var plainBoxes = map[string]bool{"ftyp": true, "moov": true, "mdat": true, "free": true, "skip": true, "wide": true}

// maxTopBoxes bounds the top-level walk.
const maxTopBoxes = 64

// mdatPayloads walks the top-level boxes with read (pread-like) and returns
// the payload ranges of the mdat boxes as [start, end) pairs clipped to
// size, or ok=false when the file is not a plain, unfragmented ISO BMFF file
// with one moov. It refuses every ambiguous layout (sizes below the header,
// a 64-bit size below 16); size 0 is "to the end of the file", as FFmpeg
// reads it at the top level.
func mdatPayloads(read func([]byte, int64) (int, error), size int64) (ranges []int64, moov [2]int64, ok bool) {
	var hdr [16]byte
	moovs := 0
	for pos, n := int64(0), 0; pos < size; n++ {
		if n == maxTopBoxes || size-pos < 8 {
			return nil, moov, false
		}
		got, err := read(hdr[:], pos)
		if err != nil || got < 8 {
			return nil, moov, false
		}
		boxSize := int64(binary.BigEndian.Uint32(hdr[0:4]))
		typ := string(hdr[4:8])
		head := int64(8)
		switch boxSize {
		case 0: // to the end of the file
			boxSize = size - pos
		case 1:
			if got < 16 {
				return nil, moov, false
			}
			large := binary.BigEndian.Uint64(hdr[8:16])
			if large < 16 || large > 1<<62 {
				return nil, moov, false
			}
			boxSize, head = int64(large), 16
		}
		if boxSize < head || !plainBoxes[typ] {
			return nil, moov, false
		}
		end := pos + boxSize
		if end > size || end < pos {
			end = size // a truncated last box
		}
		if typ == "moov" {
			moovs++
			moov = [2]int64{pos, end}
		}
		if typ == "mdat" && pos+head < end {
			ranges = append(ranges, pos+head, end)
		}
		pos = end
	}
	return ranges, moov, moovs == 1
}

// moovWhole reports whether the file is plain (see mdatPayloads) and its
// moov box ends within the file: a truncated moov leaves FFmpeg with part
// of the sample tables, where what stream info, GENPTS and the parsers do
// with them is not what the header alone says (FuzzProbe: a packet more
// without them).
func (f *fileIO) moovWhole() bool {
	_, moov, ok := mdatPayloads(f.pread, f.size)
	if !ok {
		return false
	}
	var hdr [16]byte
	got, err := f.pread(hdr[:], moov[0])
	if err != nil || got < 8 {
		return false
	}
	declared := int64(binary.BigEndian.Uint32(hdr[0:4]))
	switch declared {
	case 0:
		return true // to the end of the file
	case 1:
		if got < 16 {
			return false
		}
		declared = int64(binary.BigEndian.Uint64(hdr[8:16]))
	}
	return declared > 0 && moov[0]+declared <= f.size
}
