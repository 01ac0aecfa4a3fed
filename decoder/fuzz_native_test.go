package decoder

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// nativeFuzzBases are the real files FuzzNative mutates: every accepted
// shape, both layouts, audio first.
var nativeFuzzBases = []string{
	sample + "abseiling/h264-25fps.mp4",
	sample + "juggling/audio-first.mp4",
	sample + "playing guitar/video-only.mp4",
	"../testdata/faststart.mp4",
	nativeFixtures + "empty-edit.mp4",
	nativeFixtures + "negative-cts.mp4",
	nativeFixtures + "irregular-stts.mp4",
	nativeFixtures + "one-sample.mp4",
	nativeFixtures + "large-timescale.mp4",
	nativeFixtures + "no-editlist.mp4",
	nativeFixtures + "declares-80k-samples.mp4",
	nativeFixtures + "ntsc-no-bframes.mp4",
	nativeFixtures + "audio-first-faststart.mp4",
}

// field is a number in a moov FuzzNative may change: a box size, an entry
// count, a table entry's value, a timescale, a duration.
type field struct {
	off, width int
}

// table is a box of equal-size entries after a count (FuzzNative inserts
// and deletes entries): where its count is, where the entries start and
// their size, and the offsets of the size fields of it and its ancestors.
type table struct {
	count, first, entry int
	sizes               []int
}

// moovFields lists the fields and tables of the boxes below the box at
// [start, end) of file b (sizes: the size fields of its ancestors).
func moovFields(b []byte, start, end int, sizes []int, fields *[]field, tables *[]table) {
	for p := start; p+8 <= end; {
		size := int(binary.BigEndian.Uint32(b[p:]))
		if size < 8 || p+size > end {
			return
		}
		typ := string(b[p+4 : p+8])
		*fields = append(*fields, field{p, 4})
		own := append(append([]int{}, sizes...), p)
		u32 := func(at int) {
			if at+4 <= p+size {
				*fields = append(*fields, field{at, 4})
			}
		}
		tab := func(countAt, firstAt, entry int) {
			if firstAt > p+size {
				return
			}
			u32(countAt)
			*tables = append(*tables, table{countAt, firstAt, entry, own})
			for at := firstAt; at+4 <= p+size; at += 4 {
				u32(at)
			}
		}
		switch typ {
		case "moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "udta":
			moovFields(b, p+8, p+size, own, fields, tables)
		case "stsd":
			u32(p + 12)
			moovFields(b, p+16, p+size, own, fields, tables)
		case "avc1", "avc3", "hvc1", "hev1", "av01":
			*fields = append(*fields, field{p + 32, 2}, field{p + 34, 2}, field{p + 14, 2})
			moovFields(b, p+86, p+size, own, fields, tables)
		case "mp4a":
			moovFields(b, p+36, p+size, own, fields, tables)
		case "mvhd", "mdhd":
			if p+12 <= end && b[p+8] == 1 {
				u32(p + 28)
				*fields = append(*fields, field{p + 32, 8})
			} else {
				u32(p + 20)
				u32(p + 24)
			}
		case "tkhd", "hdlr":
			u32(p + 8)
			u32(p + 16)
		case "stts", "ctts", "co64":
			tab(p+12, p+16, 8)
		case "stsc":
			tab(p+12, p+16, 12)
		case "stco", "stss":
			tab(p+12, p+16, 4)
		case "stsz":
			u32(p + 12)
			tab(p+16, p+20, 4)
		case "elst":
			n := 12
			if b[p+8] == 1 {
				n = 20
			}
			tab(p+12, p+16, n)
		}
		p += size
	}
}

// mutateMoov applies ops (4 bytes each: kind, field or table (2), value)
// to the moov of file b.
func mutateMoov(b []byte, ops []byte) []byte {
	b = bytes.Clone(b)
	specials := []uint64{0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000}
	for len(ops) >= 4 {
		kind, sel, val := ops[0], int(binary.BigEndian.Uint16(ops[1:3])), ops[3]
		ops = ops[4:]
		at := bytes.LastIndex(b, []byte("moov")) - 4
		if at < 0 {
			return b
		}
		end := min(len(b), at+int(binary.BigEndian.Uint32(b[at:])))
		var fields []field
		var tables []table
		moovFields(b, at, end, nil, &fields, &tables)
		if len(fields) == 0 {
			return b
		}
		f := fields[sel%len(fields)]
		get := func(f field) uint64 {
			if f.width == 8 {
				return binary.BigEndian.Uint64(b[f.off:])
			} else if f.width == 2 {
				return uint64(binary.BigEndian.Uint16(b[f.off:]))
			}
			return uint64(binary.BigEndian.Uint32(b[f.off:]))
		}
		set := func(f field, v uint64) {
			switch f.width {
			case 8:
				binary.BigEndian.PutUint64(b[f.off:], v)
			case 2:
				binary.BigEndian.PutUint16(b[f.off:], uint16(v))
			default:
				binary.BigEndian.PutUint32(b[f.off:], uint32(v))
			}
		}
		switch kind % 8 {
		case 0:
			set(f, uint64(val))
		case 1:
			set(f, get(f)+uint64(int64(int8(val))))
		case 2:
			set(f, specials[int(val)%len(specials)])
		case 3:
			set(f, get(f)^1<<(val%32))
		case 4:
			set(f, get(fields[int(val)%len(fields)]))
		case 5, 6:
			// Insert a copy of an entry, or delete one: the count and the
			// sizes of the box and its ancestors follow.
			if len(tables) == 0 {
				continue
			}
			t := tables[sel%len(tables)]
			n := int(binary.BigEndian.Uint32(b[t.count:]))
			boxEnd := t.sizes[len(t.sizes)-1] + int(binary.BigEndian.Uint32(b[t.sizes[len(t.sizes)-1]:]))
			have := (boxEnd - t.first) / t.entry
			if have == 0 || n != have {
				continue
			}
			i := t.first + (int(val)%have)*t.entry
			delta := t.entry
			if kind%8 == 5 {
				b = append(b[:i], append(bytes.Clone(b[i:i+t.entry]), b[i:]...)...)
			} else {
				b = append(b[:i], b[i+t.entry:]...)
				delta = -delta
			}
			binary.BigEndian.PutUint32(b[t.count:], uint32(n+delta/t.entry))
			for _, s := range t.sizes {
				binary.BigEndian.PutUint32(b[s:], uint32(int(binary.BigEndian.Uint32(b[s:]))+delta))
			}
		case 7:
			set(f, get(f)+1)
		}
	}
	return b
}

// FuzzNative mutates real files' sample tables — sizes, counts, deltas,
// composition offsets, chunk offsets, sync samples, edit entries (also
// inserted and deleted), timescales, box sizes — and checks that the
// native probe either declines (FFmpeg answers) or gives exactly FFmpeg's
// answer, with its shortcuts and on the reference path, in both modes.
func FuzzNative(f *testing.F) {
	for i := range nativeFuzzBases {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{5, 0, 40, 1, 0, 0, 60, 0})
	}
	bases := make([][]byte, len(nativeFuzzBases))
	for i, p := range nativeFuzzBases {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		bases[i] = b
	}
	f.Fuzz(func(t *testing.T, base uint8, ops []byte) {
		if len(ops) > 64 {
			return
		}
		data := mutateMoov(bases[int(base)%len(bases)], ops)
		p := filepath.Join(t.TempDir(), "in.mp4")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast} {
			n := probeOpts(t, p, Options{Mode: mode, Timeout: 5 * time.Second})
			if !n.Native {
				continue
			}
			// FFmpeg with its shortcuts, and the reference path (PyAV's and
			// torchcodec's way: stream info, every byte).
			for _, o := range []Options{{FFmpegOnly: true}, {Reference: true}} {
				o.Mode, o.Timeout = mode, 5*time.Second
				g := probeOpts(t, p, o)
				if g.Status == vocab.StatusTimeout || strings.HasPrefix(g.Err, "refused:") {
					continue
				}
				if !reflect.DeepEqual(comparable(*n), comparable(*g)) {
					t.Fatalf("%s: native and FFmpeg (%+v) differ:\nnative %+v fps %v\nFFmpeg %+v fps %v", mode, o, comparable(*n), fpsOf(n), comparable(*g), fpsOf(g))
				}
			}
		}
	})
}
