package decoder

// #cgo pkg-config: libavformat libavcodec libavutil
// #include <errno.h>
// #include <fcntl.h>
// #include <string.h>
// #include <sys/stat.h>
// #include <unistd.h>
// #include <libavformat/avformat.h>
//
// // vc_io is the state behind vidcache's AVIOContext over one video file.
// // Reads are served from the descriptor with pread, except inside the
// // masked ranges (sorted, disjoint [start, end) pairs) while masking is on,
// // where they return zero bytes without touching the disk.
// typedef struct vc_io {
//   int fd;
//   int64_t pos;
//   int64_t *mask;
//   int nmask;
//   int masking;
//   int64_t bytes;  // bytes read from the file
//   AVIOInterruptCB *icb;
//   // A range already read (the moov box, read once for the mask's guard),
//   // served from memory.
//   int64_t hold_start, hold_end;
//   uint8_t *hold;
// } vc_io;
//
// // vc_read behaves like FFmpeg's file protocol (read; 0 bytes is
// // AVERROR_EOF; the interrupt callback checked first), at vc->pos.
// static int vc_read(void *opaque, uint8_t *buf, int size) {
//   vc_io *vc = opaque;
//   int done = 0;
//   if (vc->icb && vc->icb->callback && vc->icb->callback(vc->icb->opaque))
//     return AVERROR_EXIT;
//   while (done < size) {
//     int64_t p = vc->pos;
//     int64_t want = size - done;
//     int hole = 0;
//     if (vc->masking) {
//       // The first range that ends after p: binary search.
//       int lo = 0, hi = vc->nmask;
//       while (lo < hi) {
//         int mid = (lo + hi) / 2;
//         if (vc->mask[2 * mid + 1] <= p) lo = mid + 1; else hi = mid;
//       }
//       if (lo < vc->nmask) {
//         int64_t s = vc->mask[2 * lo], e = vc->mask[2 * lo + 1];
//         if (s <= p) {
//           hole = 1;
//           if (e - p < want) want = e - p;
//         } else if (s - p < want) {
//           want = s - p;
//         }
//       }
//     }
//     if (!hole && vc->hold && p >= vc->hold_start && p < vc->hold_end) {
//       int64_t n = vc->hold_end - p;
//       if (n > want) n = want;
//       memcpy(buf + done, vc->hold + (p - vc->hold_start), n);
//       vc->pos += n;
//       done += n;
//       continue;
//     }
//     if (!hole && vc->hold && p < vc->hold_start && vc->hold_start - p < want)
//       want = vc->hold_start - p;
//     if (hole) {
//       memset(buf + done, 0, want);
//       vc->pos += want;
//       done += want;
//       continue;
//     }
//     ssize_t n;
//     do {
//       n = pread(vc->fd, buf + done, want, p);
//     } while (n < 0 && errno == EINTR);
//     if (n < 0) {
//       if (done > 0)
//         break;
//       return AVERROR(errno);
//     }
//     vc->bytes += n;
//     vc->pos += n;
//     done += n;
//     if (n < want)
//       break; // end of file
//   }
//   if (done == 0 && size > 0)
//     return AVERROR_EOF;
//   return done;
// }
//
// // vc_seek is the file protocol's seek: AVSEEK_SIZE is fstat's size,
// // otherwise lseek's arithmetic (past the end allowed, negative refused).
// static int64_t vc_seek(void *opaque, int64_t offset, int whence) {
//   vc_io *vc = opaque;
//   struct stat st;
//   int64_t np;
//   whence &= ~AVSEEK_FORCE;
//   if (whence == AVSEEK_SIZE) {
//     if (fstat(vc->fd, &st) < 0)
//       return AVERROR(errno);
//     return S_ISFIFO(st.st_mode) ? 0 : st.st_size;
//   }
//   switch (whence) {
//   case SEEK_SET: np = offset; break;
//   case SEEK_CUR: np = vc->pos + offset; break;
//   case SEEK_END:
//     if (fstat(vc->fd, &st) < 0)
//       return AVERROR(errno);
//     np = st.st_size + offset;
//     break;
//   default: return AVERROR(EINVAL);
//   }
//   if (np < 0)
//     return AVERROR(EINVAL);
//   vc->pos = np;
//   return np;
// }
//
// // vc_open opens path without blocking (a FIFO or device put in a video's
// // place must not hang the probe) and refuses anything but a regular file,
// // checked on the opened descriptor. *size is the file's size.
// // Returns 0, AVERROR(errno), or 1 for "not a regular file".
// static int vc_open(const char *path, int *fd, int64_t *size) {
//   struct stat st;
//   int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
//   if (f < 0)
//     return AVERROR(errno);
//   if (fstat(f, &st) < 0) {
//     int e = errno;
//     close(f);
//     return AVERROR(e);
//   }
//   if (!S_ISREG(st.st_mode)) {
//     close(f);
//     return 1;
//   }
//   // Payloads are skipped: readahead would pull them in anyway.
//   posix_fadvise(f, 0, 0, POSIX_FADV_RANDOM);
//   *fd = f;
//   *size = st.st_size;
//   return 0;
// }
//
// // vc_set_masking turns the placeholders on or off, dropping what the
// // AVIOContext has buffered so that no byte read under the other setting is
// // returned afterwards.
// static void vc_set_masking(AVIOContext *pb, vc_io *vc, int on) {
//   int64_t logical;
//   if (vc->masking == on)
//     return;
//   logical = pb->pos - (pb->buf_end - pb->buf_ptr);
//   pb->buf_ptr = pb->buf_end = pb->buffer;
//   pb->pos = logical;
//   vc->pos = logical;
//   vc->masking = on;
// }
//
// static AVIOContext *vc_avio(vc_io *vc, int bufsize) {
//   unsigned char *buf = av_malloc(bufsize);
//   AVIOContext *pb;
//   if (!buf)
//     return NULL;
//   pb = avio_alloc_context(buf, bufsize, 0, vc, vc_read, NULL, vc_seek);
//   if (!pb) {
//     av_free(buf);
//     return NULL;
//   }
//   pb->seekable = AVIO_SEEKABLE_NORMAL;
//   return pb;
// }
//
// static void vc_avio_free(AVIOContext *pb) {
//   if (!pb)
//     return;
//   av_freep(&pb->buffer);
//   avio_context_free(&pb);
// }
//
// // vc_open_input does what avformat_open_input does with a caller's pb,
// // in two steps so that masking can start after the format probe: the probe
// // (av_probe_input_buffer2, as init_input calls it) always sees real bytes.
// // On failure *ps is freed and NULL, as with avformat_open_input.
// static int vc_open_input(AVFormatContext **ps, const char *url, AVIOContext *pb, vc_io *vc, int mask_header) {
//   const AVInputFormat *fmt = NULL;
//   AVFormatContext *s = *ps;
//   int score, ret;
//   s->pb = pb;
//   vc->icb = &s->interrupt_callback;
//   score = av_probe_input_buffer2(pb, &fmt, url, s, 0, s->format_probesize);
//   if (score < 0) {
//     avformat_free_context(s);
//     *ps = NULL;
//     return score;
//   }
//   vc->masking = mask_header;
//   ret = avformat_open_input(ps, url, fmt, NULL);
//   if (ret >= 0)
//     (*ps)->probe_score = score;
//   return ret;
// }
import "C"

import (
	"errors"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/vidcache/vidcache/decoder/bmff"
)

// errNotRegular is a video path that is not a regular file at open time.
var errNotRegular = errors.New("not a regular file")

// fileIO is vidcache's own AVIOContext over one video file. It opens the file
// with O_NONBLOCK and checks the opened descriptor is a regular file (a FIFO
// put in a video's place between the walk and the probe fails instead of
// blocking), counts the bytes read, and — header-only probing — can serve
// sample payloads as zero bytes without reading them.
//
// Header-only probing applies to ISO BMFF files (MP4, MOV, M4V, 3GP) whose
// top level is nothing but ftyp/moov/mdat and padding boxes: no fragments
// (moof), no items (meta), nothing the demuxer would read as structure from
// inside an mdat. Every byte inside an mdat's payload is then either a sample
// payload or never read by the demuxer at all, and the MOV demuxer takes
// every timestamp, duration and flag from moov's sample tables: masking the
// payloads changes the packets' bytes, never their timestamps or order. The
// format probe always reads real bytes (probing runs before masking starts),
// and so does avformat_find_stream_info, which decodes a few frames (mask off
// around it). Masked ranges are clipped to the file's size: reads past the
// end are EOF exactly as before, so truncated files fail where they failed.
// What changes: an I/O error inside a payload no longer fails the probe.
// TestHeaderOnlyMatchesFullRead compares both on every fixture.
type fileIO struct {
	vc      *C.vc_io
	pb      *C.AVIOContext
	size    int64
	bufSize int
	// The top-level walk, done once (topLevel).
	top           topBoxes
	topOK, walked bool
}

// ioBufSize is the AVIOContext buffer for header-only reading. The file
// protocol uses 32 KiB, and the format probe (2 KiB at first) fills a whole
// buffer with real bytes: with the index at the end that is mdat payload.
// With payloads skipped, reads are the header's, and a small buffer reads
// little beyond it. The buffer size changes how reads are split, never what
// they return.
const ioBufSize = 2 << 10

// fileProtocolBufSize is the AVIOContext buffer FFmpeg's file protocol uses,
// and fileIO's unless header-only reading sets ioBufSize.
const fileProtocolBufSize = 32 << 10

// openFile opens path for a probe. The caller must close it after the format
// context is closed.
func openFile(path string) (*fileIO, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var fd C.int
	var size C.int64_t
	switch ret := C.vc_open(cpath, &fd, &size); {
	case ret == 1:
		return nil, errNotRegular
	case ret < 0:
		return nil, astiav.Error(ret)
	}
	vc := (*C.vc_io)(C.calloc(1, C.sizeof_vc_io))
	if vc == nil {
		C.close(fd)
		return nil, errors.New("out of memory")
	}
	vc.fd = fd
	return &fileIO{vc: vc, size: int64(size), bufSize: fileProtocolBufSize}, nil
}

// setBufSize sets the AVIOContext's buffer size; before openInput only.
func (f *fileIO) setBufSize(n int) { f.bufSize = n }

// planMask reads the file's top-level boxes and, when header-only probing
// is safe (see fileIO), sets the mdat payloads as the masked ranges. It
// reports whether it did.
//
// With checkDurations (torchcodec's scan, where FFmpeg fills in a packet
// duration of zero from the parser's view of the payload), the moov box is
// read (and kept, so the demuxer does not read it again), every structural
// box in it must be where it is understood — FFmpeg also builds streams
// from a moov nested in the moov, or a trak inside a sample description —
// and every track that may be a video stream must have a positive duration
// for every sample (bmff.CheckHeaderOnly).
func (f *fileIO) planMask(checkDurations bool) bool {
	t, ok := f.topLevel()
	ranges, moov := t.ranges, t.moov
	if !ok || len(ranges) == 0 {
		return false
	}
	if checkDurations {
		n := moov[1] - moov[0]
		if n > maxHeldMoov {
			return false
		}
		hold := C.malloc(C.size_t(n))
		if hold == nil {
			return false
		}
		buf := unsafe.Slice((*byte)(hold), n)
		got, err := f.pread(buf, moov[0])
		if err != nil || int64(got) != n || bmff.CheckHeaderOnly(buf) != nil {
			C.free(hold)
			return false
		}
		f.vc.hold, f.vc.hold_start, f.vc.hold_end = (*C.uint8_t)(hold), C.int64_t(moov[0]), C.int64_t(moov[1])
	}
	m := (*C.int64_t)(C.malloc(C.size_t(len(ranges)) * 8))
	if m == nil {
		return false
	}
	copy(unsafe.Slice((*int64)(unsafe.Pointer(m)), len(ranges)), ranges)
	f.vc.mask, f.vc.nmask = m, C.int(len(ranges)/2)
	return true
}

// maxHeldMoov bounds the moov box planMask reads for its guard.
const maxHeldMoov = 64 << 20

func (f *fileIO) pread(buf []byte, off int64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	n := C.pread(f.vc.fd, unsafe.Pointer(&buf[0]), C.size_t(len(buf)), C.off_t(off))
	if n < 0 {
		return 0, errors.New("pread failed")
	}
	f.vc.bytes += C.int64_t(n)
	return int(n), nil
}

// setMasking turns the placeholders on or off (no-op without a mask).
func (f *fileIO) setMasking(on bool) {
	if f == nil || f.vc.nmask == 0 {
		return
	}
	m := C.int(0)
	if on {
		m = 1
	}
	C.vc_set_masking(f.pb, f.vc, m)
}

// masking reports whether placeholders are being served.
func (f *fileIO) masking() bool { return f != nil && f.vc.masking != 0 }

// bytesRead is how many bytes were read from the file so far.
func (f *fileIO) bytesRead() int64 {
	if f == nil || f.vc == nil {
		return 0
	}
	return int64(f.vc.bytes)
}

// close frees f (nil, as for the Reference path, is a no-op).
func (f *fileIO) close() {
	if f == nil {
		return
	}
	if f.pb != nil {
		C.vc_avio_free(f.pb)
		f.pb = nil
	}
	if f.vc != nil {
		C.close(f.vc.fd)
		C.free(unsafe.Pointer(f.vc.mask))
		C.free(unsafe.Pointer(f.vc.hold))
		C.free(unsafe.Pointer(f.vc))
		f.vc = nil
	}
}

// openInput opens fc on f as avformat_open_input would open path, the
// format probe on real bytes; with maskHeader, payloads are masked while
// the header is read.
func openInput(fc *astiav.FormatContext, path string, f *fileIO, maskHeader bool) error {
	f.pb = C.vc_avio(f.vc, C.int(f.bufSize))
	if f.pb == nil {
		return errors.New("cannot allocate an I/O context")
	}
	curl := C.CString(path)
	defer C.free(unsafe.Pointer(curl))
	m := C.int(0)
	if maskHeader && f.vc.nmask > 0 {
		m = 1
	}
	// The pointer field inside go-astiav's FormatContext (see
	// rawFormatContext): on failure FFmpeg frees the context and sets it to
	// NULL, which go-astiav then sees as freed, as after its own OpenInput.
	ps := (**C.AVFormatContext)(unsafe.Pointer(fc))
	if ret := C.vc_open_input(ps, curl, f.pb, f.vc, m); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}
