package bmff

import (
	"fmt"
	"strings"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// A track's sample table, sample entry and codec configuration, as FFmpeg reads them.

// readStbl reads the sample table's boxes into t, as mov_read_stts,
// mov_read_ctts, mov_read_stsc, mov_read_stsz and mov_read_stco do, with
// their checks in FFmpeg's order (one function on purpose, like parseTrak).
func (t *Track) readStbl(stbl *mp4.StblBox) error {
	n := map[string]int{}
	for _, c := range stbl.Children {
		n[c.Type()]++
	}
	for _, typ := range []string{"stsd", "stts", "stsc", "stsz"} {
		if n[typ] != 1 {
			return decline("track %d: %d %s", t.Index, n[typ], typ)
		}
	}
	if n["stco"]+n["co64"] != 1 || n["ctts"] > 1 || n["stss"] > 1 || n["sdtp"] > 1 {
		return decline("track %d: stco %d, co64 %d, ctts %d, stss %d", t.Index, n["stco"], n["co64"], n["ctts"], n["stss"])
	}
	for _, c := range stbl.Children {
		switch c := c.(type) {
		case *mp4.StsdBox:
			if err := t.sampleEntry(c); err != nil {
				return err
			}
		case *mp4.SttsBox:
			t.Stts = make([]sttsEntry, 0, len(c.SampleCount))
			for i := range c.SampleCount {
				if c.SampleTimeDelta[i] >= 1<<31 {
					return decline("stts delta %d", c.SampleTimeDelta[i])
				}
				t.Stts = append(t.Stts, sttsEntry{c.SampleCount[i], c.SampleTimeDelta[i]})
			}
		case *mp4.CttsBox:
			entries := len(c.SampleOffset)
			t.Ctts = make([]cttsEntry, 0, entries)
			for i := 0; i < entries; i++ {
				count := c.EndSampleNr[i+1] - c.EndSampleNr[i]
				off := c.SampleOffset[i]
				if count == 0 || count >= 1<<31 {
					return decline("ctts entry of %d samples", count)
				}
				if off == -1<<31 {
					return decline("ctts offset %d", off)
				}
				t.Ctts = append(t.Ctts, cttsEntry{count, off})
				if i+2 < entries && off < 0 && int64(-off) > t.DtsShift {
					t.DtsShift = int64(-off)
				}
			}
		case *mp4.StscBox:
			t.Stsc = make([]stscEntry, 0, len(c.Entries))
			for i, e := range c.Entries {
				if c.GetSampleDescriptionID(i) != 1 {
					return decline("samples of sample description %d", c.GetSampleDescriptionID(i))
				}
				if e.SamplesPerChunk == 0 || e.SamplesPerChunk >= 1<<31 || e.FirstChunk >= 1<<31 ||
					(i == 0 && e.FirstChunk != 1) || (i > 0 && e.FirstChunk <= c.Entries[i-1].FirstChunk) {
					return decline("stsc entry %d: first chunk %d, %d samples", i, e.FirstChunk, e.SamplesPerChunk)
				}
				t.Stsc = append(t.Stsc, stscEntry{e.FirstChunk, e.SamplesPerChunk})
			}
		case *mp4.StszBox:
			t.Count = c.SampleNumber
			if c.SampleUniformSize > 0 {
				t.Uniform = c.SampleUniformSize
				if t.Uniform > 0x3FFFFFFF {
					return decline("sample size %d", t.Uniform)
				}
			} else {
				t.Sizes = c.SampleSize
				for _, s := range t.Sizes {
					if s > 0x3FFFFFFF {
						return decline("sample size %d", s)
					}
				}
			}
		case *mp4.StcoBox:
			t.Chunks = make([]int64, 0, len(c.ChunkOffset))
			for _, o := range c.ChunkOffset {
				t.Chunks = append(t.Chunks, int64(o))
			}
		case *mp4.Co64Box:
			t.Chunks = make([]int64, 0, len(c.ChunkOffset))
			for _, o := range c.ChunkOffset {
				if o >= 1<<62 {
					return decline("chunk offset %d", o)
				}
				t.Chunks = append(t.Chunks, int64(o))
			}
		case *mp4.StssBox:
			t.HasStss = true
			t.Stss = c.SampleNumber
		case *mp4.SbgpBox:
			switch c.GroupingType {
			case "rap ", "sync":
				return decline("sample group %q", c.GroupingType)
			}
		case *mp4.SgpdBox:
			if c.GroupingType == "sync" {
				return decline("sample group description %q", c.GroupingType)
			}
		}
	}
	return t.checkCounts()
}

// checkCounts: the tables describe the same samples, so that FFmpeg's
// index is exactly one entry per sample with one stts and (with a ctts)
// one ctts value each.
func (t *Track) checkCounts() error {
	if t.Count == 0 {
		return decline("track %d has no samples", t.Index)
	}
	if t.Count >= 1<<27 {
		return decline("track %d declares %d samples", t.Index, t.Count)
	}
	var stts uint64
	for _, e := range t.Stts {
		stts += uint64(e.count)
	}
	if stts != uint64(t.Count) {
		return decline("track %d: stts covers %d of %d samples", t.Index, stts, t.Count)
	}
	if len(t.Ctts) > 0 {
		var n uint64
		for _, e := range t.Ctts {
			n += uint64(e.count)
		}
		if n != uint64(t.Count) {
			return decline("track %d: ctts covers %d of %d samples", t.Index, n, t.Count)
		}
	}
	if len(t.Chunks) == 0 || len(t.Stsc) == 0 {
		return decline("track %d: %d chunks, %d stsc entries", t.Index, len(t.Chunks), len(t.Stsc))
	}
	var samples uint64
	for i, e := range t.Stsc {
		if uint64(e.first) > uint64(len(t.Chunks)) {
			return decline("track %d: stsc names chunk %d of %d", t.Index, e.first, len(t.Chunks))
		}
		last := uint64(len(t.Chunks)) + 1
		if i+1 < len(t.Stsc) {
			last = uint64(t.Stsc[i+1].first)
		}
		samples += (last - uint64(e.first)) * uint64(e.perChunk)
	}
	if samples != uint64(t.Count) {
		return decline("track %d: chunks hold %d of %d samples", t.Index, samples, t.Count)
	}
	return nil
}

// sampleEntry reads the one sample description: codec, picture size,
// extradata.
func (t *Track) sampleEntry(stsd *mp4.StsdBox) error {
	if stsd.SampleCount != 1 || len(stsd.Children) != 1 || stsd.Version != 0 {
		return decline("track %d: %d sample descriptions", t.Index, len(stsd.Children))
	}
	e := stsd.Children[0]
	t.Format = e.Type()
	if err := checkTree(e, t.Format); err != nil {
		return err
	}
	switch e := e.(type) {
	case *mp4.VisualSampleEntryBox:
		if t.Handler != "vide" {
			return decline("track %d: %s samples in a %q track", t.Index, printable(t.Format), t.Handler)
		}
		codec, ok := videoCodecs[t.Format]
		if !ok {
			return decline("video codec %q", printable(t.Format))
		}
		t.Codec = codec
		if e.DataReferenceIndex != 1 {
			return decline("data reference %d", e.DataReferenceIndex)
		}
		if strings.HasPrefix(e.CompressorName, "Planar Y'CbCr 8-bit 4:2:0") {
			return decline("compressor %q", e.CompressorName)
		}
		t.Width, t.Height = int(e.Width), int(e.Height)
		var conf []mp4.Box
		for _, c := range e.Children {
			switch c.Type() {
			case "avcC", "hvcC", "av1C":
				conf = append(conf, c)
			}
		}
		if len(conf) > 1 {
			return decline("%d codec configurations", len(conf))
		}
		if len(conf) == 1 {
			payload, err := encodedPayload(conf[0])
			if err != nil {
				return err
			}
			// mov_read_glbl reads a payload that looks like a fiel box
			// as one.
			if len(payload) >= 10 && string(payload[4:8]) == "fiel" {
				return decline("codec configuration that looks like a fiel box")
			}
			t.Extradata = payload
		}
		// The depth field, which makes FFmpeg read a palette (and so
		// move where it reads the entry's boxes) at 1, 2, 4 or 8 bits, is
		// 0x0018: mp4ff writes that, and the moov encoded back equal.
	case *mp4.AudioSampleEntryBox:
		if t.Handler != "soun" || t.Format != "mp4a" {
			return decline("track %d: %s samples in a %q track", t.Index, printable(t.Format), t.Handler)
		}
		if e.QuickTimeVersion != 0 || e.DataReferenceIndex != 1 {
			return decline("sound description version %d", e.QuickTimeVersion)
		}
		if e.Esds == nil {
			return decline("mp4a without esds")
		}
		dsi, err := aacConfig(e.Esds)
		if err != nil {
			return err
		}
		t.Codec, t.Extradata = "aac", dsi
	default:
		return decline("sample entry %q", printable(t.Format))
	}
	return nil
}

func encodedPayload(b mp4.Box) ([]byte, error) {
	sw := bits.NewFixedSliceWriter(int(b.Size()))
	if err := b.EncodeSW(sw); err != nil {
		return nil, decline("encode %s: %v", b.Type(), err)
	}
	return sw.Bytes()[8:], nil
}

// aacConfig checks an esds as ff_mov_read_esds reads it (an MPEG-4 audio
// object type whose AudioSpecificConfig FFmpeg accepts) and returns the
// decoder specific info, FFmpeg's extradata.
func aacConfig(esds *mp4.EsdsBox) ([]byte, error) {
	es := esds.ESDescriptor
	if esds.Version != 0 || len(es.UnknownData) > 0 || len(es.OtherDescriptors) > 0 || es.DecConfigDescriptor == nil {
		return nil, decline("esds layout")
	}
	dc := es.DecConfigDescriptor
	if dc.ObjectType != 0x40 || len(dc.UnknownData) > 0 || len(dc.OtherDescriptors) > 0 || dc.DecSpecificInfo == nil {
		return nil, decline("esds object type 0x%02x", dc.ObjectType)
	}
	dsi := dc.DecSpecificInfo.DecConfig
	if len(dsi) == 0 {
		return nil, decline("empty AudioSpecificConfig")
	}
	if err := checkASC(dsi); err != nil {
		return nil, err
	}
	return dsi, nil
}

// checkASC: avpriv_mpeg4audio_get_config2 fails on a channel
// configuration of 15 and on ALS; anything else it accepts.
func checkASC(b []byte) error {
	r := bitReader{b: b}
	objectType := func() uint32 {
		t := r.read(5)
		if t == 31 {
			t = 32 + r.read(6)
		}
		return t
	}
	rate := func() {
		if r.read(4) == 15 {
			r.read(24)
		}
	}
	ot := objectType()
	rate()
	if r.read(4) == 15 {
		return decline("AAC channel configuration 15")
	}
	if ot == 5 || ot == 29 {
		// SBR/PS: FFmpeg's W6132 test aside, an extension sampling rate
		// and the real object type follow.
		return decline("explicit SBR/PS AudioSpecificConfig")
	}
	if ot == 36 {
		return decline("MPEG-4 ALS")
	}
	return nil
}

type bitReader struct {
	b   []byte
	pos int
}

// read reads n bits, zeros past the end (as FFmpeg's padded reader).
func (r *bitReader) read(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		bit := uint32(0)
		if r.pos/8 < len(r.b) {
			bit = uint32(r.b[r.pos/8]>>(7-r.pos%8)) & 1
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}

func (t *Track) String() string {
	return fmt.Sprintf("track %d (%s %s, %d samples)", t.Index, t.Handler, t.Format, t.Count)
}
