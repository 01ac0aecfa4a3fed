package decoder

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

const nativeFixtures = "../testdata/native/"

// rewriteMoov returns src (a file whose moov is the last box) with its moov
// decoded by mp4ff, changed by edit, and encoded again: sample offsets stay
// valid.
func rewriteMoov(t testing.TB, src []byte, edit func(moov *mp4.MoovBox)) []byte {
	t.Helper()
	i := bytes.LastIndex(src, []byte("moov")) - 4
	if i < 0 || int(binary.BigEndian.Uint32(src[i:])) != len(src)-i {
		t.Fatal("the moov is not the last box")
	}
	box, err := mp4.DecodeBoxSR(0, bits.NewFixedSliceReader(src[i:]))
	if err != nil {
		t.Fatal(err)
	}
	moov := box.(*mp4.MoovBox)
	edit(moov)
	sw := bits.NewFixedSliceWriter(int(moov.Size()))
	if err := moov.EncodeSW(sw); err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(src[:i]), sw.Bytes()...)
}

func videoStbl(moov *mp4.MoovBox) *mp4.StblBox {
	for _, tr := range moov.Traks {
		if tr.Mdia.Hdlr.HandlerType == "vide" {
			return tr.Mdia.Minf.Stbl
		}
	}
	return nil
}

// manySamples rewrites a video-only file (moov last) so that its one track
// declares n samples of one size in one chunk starting at the first
// sample: the file holds only the first few of them.
func manySamples(t testing.TB, src []byte, n uint32) []byte {
	return rewriteMoov(t, src, func(moov *mp4.MoovBox) {
		st := videoStbl(moov)
		first := st.Stco.ChunkOffset[0]
		moovAt := uint32(bytes.LastIndex(src, []byte("moov")) - 4)
		st.Stco.ChunkOffset = []uint32{first}
		st.Stsc.Entries = nil
		st.Stsc.AddEntry(1, n, 1)
		// 50 samples fit before the moov.
		st.Stsz.SampleUniformSize, st.Stsz.SampleNumber, st.Stsz.SampleSize = (moovAt-first)/50+1, n, nil
		st.Stts.SampleCount, st.Stts.SampleTimeDelta = []uint32{n}, []uint32{st.Stts.SampleTimeDelta[0]}
		var kids []mp4.Box
		for _, c := range st.Children {
			if c.Type() != "ctts" && c.Type() != "stss" {
				kids = append(kids, c)
			}
		}
		st.Children, st.Ctts, st.Stss = kids, nil, nil
		for _, tr := range moov.Traks {
			var kids []mp4.Box
			for _, c := range tr.Children {
				if c.Type() != "edts" {
					kids = append(kids, c)
				}
			}
			tr.Children, tr.Edts = kids, nil
		}
	})
}

// TestWriteNativeFixtures writes the Go-made files of testdata/native
// (VIDCACHE_WRITE_FIXTURES=1; testdata/make-native.sh makes the others).
func TestWriteNativeFixtures(t *testing.T) {
	if os.Getenv("VIDCACHE_WRITE_FIXTURES") == "" {
		t.Skip("VIDCACHE_WRITE_FIXTURES is not set")
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(nativeFixtures, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	videoOnly := read(sample + "playing guitar/video-only.mp4")
	// The last sample lasts 0 (stts: n-1 of d, then 1 of 0).
	write("zero-last-duration.mp4", rewriteMoov(t, videoOnly, func(moov *mp4.MoovBox) {
		st := videoStbl(moov).Stts
		n, d := st.SampleCount[0], st.SampleTimeDelta[0]
		st.SampleCount, st.SampleTimeDelta = []uint32{n - 1, 1}, []uint32{d, 0}
	}))
	// 80 million samples declared in 6 KB (issue 23, item 7): FFmpeg
	// would index them all; the file holds 50.
	noAudio := read(nativeFixtures + "no-editlist.mp4")
	write("declares-80M-samples.mp4", manySamples(t, noAudio, 80_000_000))
	// The same shape within FFmpeg's budget, to compare the two.
	write("declares-80k-samples.mp4", manySamples(t, noAudio, 80_000))
	// A moov inside the moov (issue 23, item 7): a copy of the file's own
	// moov whose video track's last sample lasts 0. FFmpeg builds streams
	// from both.
	clip := read(sample + "abseiling/h264-25fps.mp4")
	write("nested-moov.mp4", rewriteMoov(t, clip, func(moov *mp4.MoovBox) {
		inner, err := mp4.DecodeBoxSR(0, bits.NewFixedSliceReader(clip[bytes.LastIndex(clip, []byte("moov"))-4:]))
		if err != nil {
			t.Fatal(err)
		}
		st := videoStbl(inner.(*mp4.MoovBox)).Stts
		n, d := st.SampleCount[0], st.SampleTimeDelta[0]
		st.SampleCount, st.SampleTimeDelta = []uint32{n - 1, 1}, []uint32{d, 0}
		moov.Children = append(moov.Children, inner)
	}))
	// The sample entry says 176x144; the bitstream's SPS says 128x96
	// (TestHeaderSizeWins).
	write("header-size-differs.mp4", rewriteMoov(t, videoOnly, func(moov *mp4.MoovBox) {
		avc := videoStbl(moov).Stsd.AvcX
		avc.Width, avc.Height = 176, 144
	}))
}
