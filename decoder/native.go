package decoder

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unicode/utf8"

	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/decoder/bmff"
)

// The native path: plain MP4/MOV files answered from their sample tables
// by package bmff, without FFmpeg. Probe takes it first in the modes it
// answers (scan and fast) unless the options ask for FFmpeg (Reference,
// FullRead, FFmpegOnly); a file it declines is probed by FFmpeg, whole, and
// Result.NativeDecline says why.

// firstReadHint is the size of the first read of the next native probe: a
// page, or, after a file whose index was in front, that file's ftyp+moov
// rounded up to pages (so that a dataset of such files takes one read per
// file). Files of one dataset are usually alike; a wrong guess costs one
// more read, or a few KiB of payload.
var firstReadHint atomic.Int64

func nextFirstRead() int {
	if n := firstReadHint.Load(); n > 0 {
		return int(n)
	}
	return bmff.FirstRead
}

func learnLayout(l *bmff.Layout) {
	if l == nil {
		return
	}
	if l.Moov[0] < bmff.FirstRead && l.Moov[1] <= 1<<20 {
		firstReadHint.Store((l.Moov[1] + 4095) &^ 4095)
	} else {
		firstReadHint.Store(bmff.FirstRead)
	}
}

// nativeFile is a video opened for the native probe: without blocking,
// regular files only, the kernel told not to read ahead.
type nativeFile struct {
	fd   int
	size int64
	read int64
}

func openNative(path string) (*nativeFile, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, errNotRegular
	}
	// POSIX_FADV_RANDOM (1): only what is asked for is read.
	syscall.Syscall6(syscall.SYS_FADVISE64, uintptr(fd), 0, 0, 1, 0, 0)
	return &nativeFile{fd: fd, size: st.Size}, nil
}

func (f *nativeFile) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Pread(f.fd, p[done:], off+int64(done))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		f.read += int64(n)
		done += n
	}
	if done < len(p) {
		return done, fmt.Errorf("short read at %d", off)
	}
	return done, nil
}

func (f *nativeFile) close() { syscall.Close(f.fd) }

// probeNative answers r natively for mode, or returns why not (and, when
// it got that far, the moov box read, for the memory check of the FFmpeg
// path). It reports done when r is the answer. It reads without a CPU slot
// and computes with one; the error is ctx's, when it ends while waiting.
func probeNative(ctx context.Context, path string, mode vocab.Mode, cpu Slots, r *Result) (done bool, why string, moov []byte, err error) {
	target := bmff.Fast
	if mode == vocab.ModeScan {
		target = bmff.Scan
		if !utf8.ValidString(path) {
			return false, "the path is not valid UTF-8", nil, nil
		}
	}
	f, err := openNative(path)
	if err != nil {
		return false, "open: " + err.Error(), nil, nil
	}
	defer f.close()
	defer func() { r.BytesRead += f.read }()
	l, _, err := bmff.ReadLayout(f, f.size, nextFirstRead())
	if err != nil {
		return false, err.Error(), nil, nil
	}
	learnLayout(l)
	if target == bmff.Scan && l.Mdats == 0 {
		// FFmpeg's scan then reads in full, with stream info.
		return false, "no mdat", l.MoovBytes, nil
	}
	if err := cpu.acquire(ctx); err != nil {
		return false, "", nil, err
	}
	defer cpu.release()
	m, err := bmff.ParseMoov(l.MoovBytes)
	if err != nil {
		return false, err.Error(), l.MoovBytes, nil
	}
	a, err := m.Probe(target, f.size)
	if err != nil {
		return false, err.Error(), l.MoovBytes, nil
	}
	r.Status = vocab.StatusOK
	r.Frames, r.Stream, r.Streams = a.Frames, a.Stream, a.Streams
	r.FPS, r.TBNum, r.TBDen = a.FPS, a.TBNum, a.TBDen
	r.Codec, r.Width, r.Height = a.Codec, a.Width, a.Height
	r.Demuxed, r.Pts = a.Demuxed, a.Pts
	r.HeaderOnly, r.Native = true, true
	return true, "", nil, nil
}

// DefaultMemoryBudget is what one probe may let FFmpeg allocate for its
// sample index (see checkDeclared).
const DefaultMemoryBudget = 256 << 20

// checkDeclared refuses a file whose moov declares more samples than
// FFmpeg can index within budget bytes: FFmpeg allocates its index for
// every declared sample before reading any (a 6.5 KB file declaring 80
// million constant-size samples made one probe take 2.8 GB). moov is the
// moov box when the native probe read it; otherwise the file's top-level
// moov boxes are read here.
func checkDeclared(path string, moov []byte, budget int64) error {
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	var size int64
	var declared uint64
	if moov != nil {
		declared = bmff.DeclaredSamples(moov)
		if fi, err := os.Stat(path); err == nil {
			size = fi.Size()
		}
	} else {
		f, err := openNative(path)
		if err != nil {
			return nil // FFmpeg says why
		}
		defer f.close()
		size = f.size
		declared = bmff.DeclaredSamplesInFile(f, f.size)
	}
	need := declared * bmff.IndexBytesPerSample
	if need <= uint64(budget) {
		return nil
	}
	return fmt.Errorf("refused: the file (%d bytes) declares %d samples, for which FFmpeg would build a %d MiB index (a probe may use %d MiB)",
		size, declared, need>>20, budget>>20)
}
