package indexer

import (
	"encoding/binary"
	"errors"
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

// decodePts appends n timestamps decoded from b to dst.
func decodePts(dst []int64, b []byte, n int) ([]int64, error) {
	var prev int64
	for i := 0; i < n; i++ {
		d, k := binary.Varint(b)
		if k <= 0 {
			return nil, errBadPtsBlob
		}
		b = b[k:]
		prev += d
		dst = append(dst, prev)
	}
	if len(b) != 0 {
		return nil, errBadPtsBlob
	}
	return dst, nil
}
