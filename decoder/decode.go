package decoder

import (
	"errors"
	"fmt"

	"github.com/asticode/go-astiav"
)

// Decoding a stream's frames, where the pts only decoding tells (exact mode).

// decodePts decodes the video stream and collects the pts of its frames, as
// PyAV's container.decode(video=0) yields them.
func decodePts(fc *astiav.FormatContext, vs *astiav.Stream, cp *astiav.CodecParameters, ii *astiav.IOInterrupter, shortcuts bool) ([]int64, error) {
	codec := astiav.FindDecoder(cp.CodecID())
	if codec == nil {
		return nil, fmt.Errorf("no decoder for codec %s in this FFmpeg build", cp.CodecID().Name())
	}
	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		return nil, errors.New("cannot allocate a codec context")
	}
	defer cc.Free()
	if err := cp.ToCodecContext(cc); err != nil {
		return nil, fmt.Errorf("codec parameters: %w", err)
	}
	cc.SetTimeBase(vs.TimeBase())
	// One thread per video: the worker pool already spreads videos over cores,
	// and single-threaded decoding reports errors exactly where they occur.
	cc.SetThreadCount(1)
	var dict *astiav.Dictionary
	if shortcuts {
		// Only frames' timestamps are used: skip deblocking and the inverse
		// transform (about 20% of H.264 decoding here). Bitstream parsing, and
		// so every error torchvision would meet, is untouched.
		dict = astiav.NewDictionary()
		defer dict.Free()
		dict.Set("skip_loop_filter", "all", 0)
		dict.Set("skip_idct", "all", 0)
	}
	if err := cc.Open(codec, dict); err != nil {
		return nil, fmt.Errorf("open decoder %s: %w", codec.Name(), err)
	}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	frame := astiav.AllocFrame()
	defer frame.Free()
	idx := vs.Index()
	// nb_frames comes from the file's header: trust it only as a hint, so a
	// damaged or hostile header cannot make the probe allocate gigabytes.
	pts := make([]int64, 0, min(max(vs.NbFrames(), 64), 1<<16))

	drain := func() error {
		for {
			if ii.Interrupted() {
				return astiav.ErrExit
			}
			if err := cc.ReceiveFrame(frame); err != nil {
				if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
					return nil
				}
				return fmt.Errorf("decode frame %d: %w", len(pts), err)
			}
			if p := frame.Pts(); p != astiav.NoPtsValue {
				pts = append(pts, p)
			}
			frame.Unref()
		}
	}
	for {
		if err := fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				break
			}
			return nil, fmt.Errorf("read packet: %w", err)
		}
		if pkt.StreamIndex() != idx {
			pkt.Unref()
			continue
		}
		err := cc.SendPacket(pkt)
		pkt.Unref()
		if err != nil {
			return nil, fmt.Errorf("decode packet: %w", err)
		}
		if err := drain(); err != nil {
			return nil, err
		}
	}
	if err := cc.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		return nil, fmt.Errorf("flush decoder: %w", err)
	}
	if err := drain(); err != nil {
		return nil, err
	}
	return pts, nil
}
