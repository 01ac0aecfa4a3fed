package bmff

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// Movie is what the native probe uses of a moov box.
type Movie struct {
	Timescale uint32 // mvhd
	Tracks    []*Track
}

// Track is one trak, in FFmpeg's terms (its index is the stream index).
type Track struct {
	Index     int
	Handler   string // "vide" or "soun"
	Format    string // sample entry fourcc
	Codec     string // FFmpeg's codec name
	Timescale uint32 // mdhd
	// Duration is mdhd's duration as FFmpeg keeps it (all ones: 0).
	Duration  int64
	Width     int
	Height    int
	Extradata []byte // codecpar extradata FFmpeg builds (avcC/hvcC/av1C payload, esds DSI)

	Stts []sttsEntry
	Ctts []cttsEntry // nil: no ctts (or an empty one, which FFmpeg ignores)
	// DtsShift is FFmpeg's dts_shift: the largest negated negative ctts
	// offset among all entries but the last two (mov_read_ctts).
	DtsShift int64
	Stsc     []stscEntry
	Chunks   []int64
	Uniform  uint32   // stsz sample size when all are equal (Sizes nil)
	Sizes    []uint32 // per-sample sizes
	Count    uint32   // samples (stsz)
	HasStss  bool
	Stss     []uint32
	Elst     []elstEntry // nil: no edit list
}

type sttsEntry struct{ count, delta uint32 }
type cttsEntry struct {
	count  uint32
	offset int32
}
type stscEntry struct{ first, perChunk uint32 }
type elstEntry struct {
	duration  uint64
	mediaTime int64
}

// ffTable is every box type FFmpeg 9's MOV demuxer acts on wherever it
// meets it (mov_default_parse_table, plus trak and mdat, which end any
// container but moov they appear in). Such a box anywhere but where
// allowed puts is a Decline.
var ffTable = set("ACLR APRG AALP ARES avss av1C chpl co64 colr ctts dinf DpxE dref edts elst enda fiel adrm ftyp glbl hdlr ilst jp2h mdat mdhd mdia meta minf moof moov mvex mvhd alac avcC pasp clap sbas vdep sidx stbl stco stps strf stsc stsd stss stsz stts stz2 sdtp tkhd tfdt tfhd trak traf tref tmcd chap trex trun udta wave esds dac3 dec3 ddts wide wfex cmov chan chnl dvc1 sgpd sbgp hvcC vvcC uuid free ---- sinf frma senc saiz saio pssh schm schi tenc dfLa st3d sv3d vexu hfov dOps dmlp SmDm CoLL vpcC mdcv clli dvcC dvvC dvwC hvcE kind SA3D SAND iloc pcmC pitm evcC idat imir iref ispe irot iprp iinf amve lhvC lvcC apvC iacb srat SMI Cin\x8e")

// allowed lists, for each parent, the ffTable boxes it may hold.
var allowed = map[string]map[string]bool{
	"moov": set("mvhd trak udta meta free"),
	"trak": set("tkhd edts mdia udta meta free"),
	"edts": set("elst"),
	"mdia": set("mdhd hdlr minf udta free"),
	"minf": set("hdlr dinf stbl free"),
	"dinf": set("dref"),
	"stbl": set("stsd stts ctts stsc stsz stco co64 stss sdtp sgpd sbgp free"),
	"udta": set("meta free"),
	"meta": set("hdlr ilst free"),
	"ilst": set(""),
	// Sample entries (checked by sampleEntry).
	"avc1": set("avcC pasp colr fiel free"),
	"avc3": set("avcC pasp colr fiel free"),
	"hvc1": set("hvcC pasp colr fiel free"),
	"hev1": set("hvcC pasp colr fiel free"),
	"av01": set("av1C pasp colr fiel free"),
	"mp4a": set("esds free"),
}

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	if m["SMI"] {
		m["SMI "] = true
	}
	return m
}

// videoCodecs maps the video sample entries understood to FFmpeg's codec
// names.
var videoCodecs = map[string]string{"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "av01": "av1"}

// ParseMoov decodes a moov box (header included) into a Movie, or declines.
// The box must decode with mp4ff and encode back to the same bytes (so
// mp4ff saw every byte as FFmpeg will), hold only boxes FFmpeg acts on
// where they are understood, and describe consistent sample tables.
func ParseMoov(b []byte) (m *Movie, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, decline("mp4ff: %v", r)
		}
	}()
	sr := bits.NewFixedSliceReader(b)
	box, derr := mp4.DecodeBoxSR(0, sr)
	if derr != nil {
		return nil, decline("mp4ff: %v", derr)
	}
	moov, ok := box.(*mp4.MoovBox)
	if !ok || sr.NrRemainingBytes() != 0 {
		return nil, decline("moov does not decode as one box")
	}
	if box.Size() != uint64(len(b)) {
		return nil, decline("mp4ff reads the moov as %d bytes, not %d", box.Size(), len(b))
	}
	buf := encodeBufs.Get().(*[]byte)
	defer encodeBufs.Put(buf)
	if cap(*buf) < len(b) {
		*buf = make([]byte, len(b))
	}
	sw := bits.NewFixedSliceWriterFromSlice((*buf)[:len(b)])
	if err := box.EncodeSW(sw); err != nil || !sameBytes(sw.Bytes(), b) {
		return nil, decline("moov does not encode back to the same bytes with mp4ff")
	}
	if err := checkTree(moov, "moov"); err != nil {
		return nil, err
	}
	m = &Movie{}
	nmvhd := 0
	for _, c := range moov.Children {
		switch c := c.(type) {
		case *mp4.MvhdBox:
			nmvhd++
			m.Timescale = c.Timescale
		case *mp4.TrakBox:
			t, err := parseTrak(c, len(m.Tracks))
			if err != nil {
				return nil, err
			}
			m.Tracks = append(m.Tracks, t)
		}
	}
	if nmvhd != 1 {
		return nil, decline("%d mvhd boxes", nmvhd)
	}
	if len(m.Tracks) == 0 {
		return nil, decline("no tracks")
	}
	return m, nil
}

// encodeBufs recycles the buffers the moov is encoded back into.
var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

// sameBytes compares mp4ff's encoding of a moov with the original: equal
// but for fields that mp4ff writes as zeros and FFmpeg skips: the reserved
// fields of hdlr boxes (QuickTime's component manufacturer, flags and mask)
// and of visual sample entries (QuickTime's version, revision, vendor and
// qualities).
func sameBytes(enc, orig []byte) bool {
	if len(enc) != len(orig) {
		return false
	}
	for i := 0; i < len(enc); {
		k := i
		for k < len(enc) && enc[k] == orig[k] {
			k++
		}
		if k == len(enc) {
			return true
		}
		if !zeroedField(enc, k) {
			return false
		}
		i = k + 1
	}
	return true
}

// zeroedFields are the [from, to) byte ranges, from the start of a box of
// the type, where mp4ff writes zeros whatever the original held.
var zeroedFields = map[string][2]int{
	"hdlr": {20, 32}, "avc1": {16, 32}, "avc3": {16, 32}, "hvc1": {16, 32}, "hev1": {16, 32}, "av01": {16, 32},
}

// zeroedField reports whether byte k of enc lies in a zeroed field of a
// box (whose type and a plausible size the encoding holds).
func zeroedField(enc []byte, k int) bool {
	for p := max(0, k-31); p <= k; p++ {
		if p+8 > len(enc) {
			break
		}
		f, ok := zeroedFields[string(enc[p+4:p+8])]
		if !ok || k < p+f[0] || k >= p+f[1] {
			continue
		}
		if size := binary.BigEndian.Uint32(enc[p : p+4]); size >= uint32(f[1]) && p+int(size) <= len(enc) && enc[k] == 0 {
			return true
		}
	}
	return false
}

// children lists the boxes FFmpeg reads inside b (nil for a leaf).
func children(b mp4.Box) []mp4.Box {
	switch b := b.(type) {
	case *mp4.StsdBox:
		return nil // entries: checked by parseTrak
	case *mp4.DrefBox:
		return nil // entries: read by mov_read_dref itself, checked by parseTrak
	case *mp4.VisualSampleEntryBox:
		return b.Children
	case *mp4.AudioSampleEntryBox:
		return b.Children
	case *mp4.UdtaBox:
		return b.Children
	case mp4.ContainerBox:
		return b.GetChildren()
	}
	return nil
}

// checkTree checks that every box FFmpeg acts on below b is where it is
// understood, and that udta/meta/ilst hold only plain metadata.
func checkTree(b mp4.Box, typ string) error {
	kids := children(b)
	ok := allowed[typ]
	for _, c := range kids {
		ct := c.Type()
		if ffTable[ct] && !ok[ct] {
			return decline("%q inside %q", printable(ct), printable(typ))
		}
		switch typ {
		case "udta":
			switch ct {
			case "HMMT", "loci", "chpl", "XMP_":
				return decline("%q metadata", ct)
			}
		case "ilst":
			if ct == "covr" {
				return decline("cover art")
			}
		case "meta":
			// FFmpeg reads a meta box from its hdlr on: the hdlr must be
			// the first child, of the iTunes metadata handler.
			m, _ := b.(*mp4.MetaBox)
			if m == nil || m.IsQuickTime() || len(m.Children) == 0 || m.Children[0].Type() != "hdlr" {
				return decline("meta box without a leading hdlr")
			}
			if h := m.Children[0].(*mp4.HdlrBox); h.HandlerType != "mdir" {
				return decline("meta handler %q", printable(h.HandlerType))
			}
		}
		if ct == "ilst" || ct == "udta" || ct == "meta" || allowed[ct] != nil {
			if err := checkTree(c, ct); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseTrak(trak *mp4.TrakBox, index int) (*Track, error) {
	t := &Track{Index: index}
	var mdia *mp4.MdiaBox
	ntkhd, nmdia, nedts := 0, 0, 0
	for _, c := range trak.Children {
		switch c := c.(type) {
		case *mp4.TkhdBox:
			ntkhd++
		case *mp4.MdiaBox:
			nmdia++
			mdia = c
		case *mp4.EdtsBox:
			nedts++
			if len(c.Children) != 1 || len(c.Elst) != 1 {
				return nil, decline("edts with %d boxes", len(c.Children))
			}
			e := c.Elst[0]
			if e.Version > 1 {
				return nil, decline("elst version %d", e.Version)
			}
			t.Elst = []elstEntry{}
			for _, x := range e.Entries {
				if x.SegmentDuration >= 1<<62 {
					return nil, decline("edit of duration %d", x.SegmentDuration)
				}
				if x.MediaRateInteger != 1 || x.MediaRateFraction != 0 {
					return nil, decline("edit at rate %d.%d", x.MediaRateInteger, x.MediaRateFraction)
				}
				t.Elst = append(t.Elst, elstEntry{x.SegmentDuration, x.MediaTime})
			}
			if len(t.Elst) == 0 {
				t.Elst = nil // FFmpeg ignores an empty edit list
			}
		}
	}
	if ntkhd != 1 || nmdia != 1 || nedts > 1 {
		return nil, decline("track %d: %d tkhd, %d mdia, %d edts", index, ntkhd, nmdia, nedts)
	}
	var minf *mp4.MinfBox
	nmdhd, nhdlr, nminf := 0, 0, 0
	for _, c := range mdia.Children {
		switch c := c.(type) {
		case *mp4.MdhdBox:
			nmdhd++
			if c.Version > 1 {
				return nil, decline("mdhd version %d", c.Version)
			}
			t.Timescale = c.Timescale
			d := c.Duration
			if (c.Version == 1 && d == 1<<64-1) || (c.Version == 0 && d == 1<<32-1) {
				d = 0
			}
			if d >= 1<<62 {
				return nil, decline("track duration %d", d)
			}
			t.Duration = int64(d)
		case *mp4.HdlrBox:
			nhdlr++
			t.Handler = c.HandlerType
		case *mp4.MinfBox:
			nminf++
			minf = c
		}
	}
	if nmdhd != 1 || nhdlr != 1 || nminf != 1 {
		return nil, decline("track %d: %d mdhd, %d hdlr, %d minf", index, nmdhd, nhdlr, nminf)
	}
	if t.Handler != "vide" && t.Handler != "soun" {
		return nil, decline("track %d of handler %q", index, printable(t.Handler))
	}
	if t.Timescale == 0 || t.Timescale >= 1<<31 {
		return nil, decline("track %d: timescale %d", index, t.Timescale)
	}
	var stbl *mp4.StblBox
	ndinf, nstbl := 0, 0
	for _, c := range minf.Children {
		switch c := c.(type) {
		case *mp4.HdlrBox:
			// QuickTime's data handler: FFmpeg reads it as a media
			// handler too, so it must not name one.
			switch c.HandlerType {
			case "vide", "soun", "m1a ", "subp", "clcp":
				return nil, decline("second media handler %q", c.HandlerType)
			}
		case *mp4.DinfBox:
			ndinf++
			if err := checkDinf(c); err != nil {
				return nil, err
			}
		case *mp4.StblBox:
			nstbl++
			stbl = c
		}
	}
	if ndinf != 1 || nstbl != 1 {
		return nil, decline("track %d: %d dinf, %d stbl", index, ndinf, nstbl)
	}
	if err := t.readStbl(stbl); err != nil {
		return nil, err
	}
	return t, nil
}

// checkDinf: one data reference, to this file (so FFmpeg reads samples
// from it, and opens no other).
func checkDinf(d *mp4.DinfBox) error {
	if len(d.Children) != 1 {
		return decline("dinf with %d boxes", len(d.Children))
	}
	dref, ok := d.Children[0].(*mp4.DrefBox)
	if !ok || dref.EntryCount != 1 || len(dref.Children) != 1 {
		return decline("data references other than one")
	}
	u, ok := dref.Children[0].(*mp4.URLBox)
	if !ok || u.Flags != 1 || !u.NoLocation || u.Size() != 12 {
		return decline("external data reference")
	}
	return nil
}

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
