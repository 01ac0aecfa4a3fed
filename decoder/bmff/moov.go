package bmff

import (
	"encoding/binary"
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

// parseTrak reads one track as mov_read_trak and its children do: the
// header, the media header and handler, the edit list, then the sample
// table (readStbl). One function on purpose: each box's checks decline in
// the order FFmpeg reads the boxes, which decides which reason a file gets.
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
