package indexer

import (
	"encoding/binary"
	"errors"
	"slices"
)

// encodePts stores sorted timestamps compactly: the first value and then each
// difference, zigzag-varint encoded (about 2 bytes a frame for constant-rate video).
func encodePts(pts []int64) []byte {
	b := make([]byte, 0, len(pts)*2+binary.MaxVarintLen64)
	var prev int64
	for _, p := range pts {
		b = binary.AppendVarint(b, p-prev)
		prev = p
	}
	return b
}

var errBadPtsBlob = errors.New("corrupt pts blob in index")

// decodePts appends n timestamps decoded from b to dst. Deltas of one or
// two bytes (nearly all of them) are decoded inline.
func decodePts(dst []int64, b []byte, n int) ([]int64, error) {
	dst = slices.Grow(dst, n)
	var prev int64
	for i := 0; i < n; i++ {
		var u uint64
		switch {
		case len(b) > 0 && b[0] < 0x80:
			u, b = uint64(b[0]), b[1:]
		case len(b) > 1 && b[1] < 0x80:
			u, b = uint64(b[0]&0x7f)|uint64(b[1])<<7, b[2:]
		default:
			var k int
			if u, k = binary.Uvarint(b); k <= 0 {
				return nil, errBadPtsBlob
			}
			b = b[k:]
		}
		prev += int64(u>>1) ^ -int64(u&1) // zigzag, as binary.Varint
		dst = append(dst, prev)
	}
	if len(b) != 0 {
		return nil, errBadPtsBlob
	}
	return dst, nil
}
