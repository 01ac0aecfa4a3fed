package bmff

import (
	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// structural are the boxes from which FFmpeg builds streams and their
// sample tables. CheckHeaderOnly accepts them only in their place.
var structural = set("moov trak mdia minf stbl stsd stts ctts stsc stsz stz2 stco co64 stss stps sdtp elst edts mdhd hdlr tkhd mvhd moof traf trun tfhd tfdt trex mvex mdat sidx cmov dinf dref tref chap tmcd udta meta ilst iloc iinf iref idat pitm iprp covr wide")

// CheckHeaderOnly says whether the scan may read a file header-only
// (sample payloads served as placeholders): every structural box of the
// moov is where it is understood — no moov inside the moov, no track or
// table inside a sample description or metadata — and every track that
// may be a video stream (any but a sound track) has a positive stts delta
// for each of its samples, so that FFmpeg never fills in a duration from a
// parser's view of a payload. Codec configuration boxes are not looked at.
func CheckHeaderOnly(moov []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = decline("mp4ff: %v", r)
		}
	}()
	sr := bits.NewFixedSliceReader(moov)
	box, derr := mp4.DecodeBoxSR(0, sr)
	if derr != nil {
		return decline("mp4ff: %v", derr)
	}
	m, ok := box.(*mp4.MoovBox)
	if !ok || sr.NrRemainingBytes() != 0 || box.Size() != uint64(len(moov)) {
		return decline("moov does not decode as one box")
	}
	if err := checkStructure(m, "moov"); err != nil {
		return err
	}
	for _, c := range m.Children {
		if tr, ok := c.(*mp4.TrakBox); ok {
			if err := positiveDurations(tr); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkStructure(b mp4.Box, typ string) error {
	// Where a structural box is understood is where the native probe
	// allows it (allowed): its other members are not structural.
	ok, known := allowed[typ]
	for _, c := range children(b) {
		ct := c.Type()
		if structural[ct] && (!known || !ok[ct]) {
			return decline("%q inside %q", printable(ct), printable(typ))
		}
		if err := checkStructure(c, ct); err != nil {
			return err
		}
	}
	if s, isStsd := b.(*mp4.StsdBox); isStsd {
		for _, e := range s.Children {
			if structural[e.Type()] {
				return decline("sample description %q", printable(e.Type()))
			}
			if err := checkStructure(e, e.Type()); err != nil {
				return err
			}
		}
	}
	return nil
}

// positiveDurations: a track that is not a sound track has one stts and one
// stsz, and the stts gives every sample a positive duration.
func positiveDurations(tr *mp4.TrakBox) error {
	if tr.Mdia == nil || tr.Mdia.Hdlr == nil {
		return decline("track without a media handler")
	}
	if tr.Mdia.Hdlr.HandlerType == "soun" {
		return nil
	}
	if tr.Mdia.Minf == nil || tr.Mdia.Minf.Stbl == nil {
		return decline("track without a sample table")
	}
	st := tr.Mdia.Minf.Stbl
	n := map[string]int{}
	for _, c := range st.Children {
		n[c.Type()]++
	}
	if n["stts"] != 1 || n["stsz"] != 1 || st.Stts == nil || st.Stsz == nil {
		return decline("track with %d stts and %d stsz", n["stts"], n["stsz"])
	}
	var covered uint64
	for i, n := range st.Stts.SampleCount {
		if d := st.Stts.SampleTimeDelta[i]; n != 0 && (d == 0 || d >= 1<<31) {
			return decline("stts delta %d", d)
		}
		covered += uint64(n)
	}
	if covered < uint64(st.Stsz.SampleNumber) {
		return decline("stts covers %d of %d samples", covered, st.Stsz.SampleNumber)
	}
	return nil
}
