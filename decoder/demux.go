package decoder

// #cgo pkg-config: libavformat libavcodec libavutil
// #include <libavformat/avformat.h>
//
// // vidcache_samples_inside reports whether every entry of every stream's
// // index (the sample tables the MOV demuxer read from the header) has a
// // size of at least 0 and ends within the file's size bytes.
// static int vidcache_samples_inside(AVFormatContext *fc, int64_t size) {
//   for (unsigned i = 0; i < fc->nb_streams; i++) {
//     AVStream *st = fc->streams[i];
//     int n = avformat_index_get_entries_count(st);
//     for (int j = 0; j < n; j++) {
//       const AVIndexEntry *e = avformat_index_get_entry(st, j);
//       if (!e || e->size < 0 || e->pos < 0 || e->pos > size - e->size)
//         return 0;
//     }
//   }
//   return 1;
// }
//
// // vidcache_demux_pts reads every packet of fc and collects the pts of
// // stream idx's packets that have one (with keep_discarded also those
// // flagged AV_PKT_FLAG_DISCARD) into *out (av_malloc'ed, *n entries). It
// // returns 0 at the end of the file, else the first error of av_read_frame
// // (*n then counts the pts read before it).
// static int vidcache_demux_pts(AVFormatContext *fc, int idx, int keep_discarded, int64_t **out, int *n) {
//   AVPacket *pkt = av_packet_alloc();
//   int cap = 0, ret;
//   *out = NULL;
//   *n = 0;
//   if (!pkt)
//     return AVERROR(ENOMEM);
//   for (;;) {
//     if ((ret = av_read_frame(fc, pkt)) < 0)
//       break;
//     if (pkt->stream_index == idx && pkt->pts != AV_NOPTS_VALUE &&
//         (keep_discarded || !(pkt->flags & AV_PKT_FLAG_DISCARD))) {
//       if (*n == cap) {
//         int64_t *p = av_realloc_array(*out, cap ? 2 * cap : 512, sizeof(int64_t));
//         if (!p) {
//           av_packet_unref(pkt);
//           ret = AVERROR(ENOMEM);
//           break;
//         }
//         *out = p;
//         cap = cap ? 2 * cap : 512;
//       }
//       (*out)[(*n)++] = pkt->pts;
//     }
//     av_packet_unref(pkt);
//   }
//   av_packet_free(&pkt);
//   return ret == AVERROR_EOF ? 0 : ret;
// }
//
// static int vidcache_nb_streams(AVFormatContext *fc) { return (int)fc->nb_streams; }
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// demuxPts collects the pts of the video stream's packets, in file order.
// keepDiscarded follows torchvision's packet path, which keeps packets a
// decoder would drop.
//
// The packet loop runs in C, one cgo call per video instead of two per
// packet: with a few hundred packets per clip, the calls and their pointer
// checks were about 8% of a fast probe.
func demuxPts(fc *astiav.FormatContext, vs *astiav.Stream, keepDiscarded bool) ([]int64, error) {
	keep := C.int(0)
	if keepDiscarded {
		keep = 1
	}
	var out *C.int64_t
	var n C.int
	ret := C.vidcache_demux_pts(rawFormatContext(fc), C.int(vs.Index()), keep, &out, &n)
	var pts []int64
	if out != nil {
		pts = append(make([]int64, 0, n), unsafe.Slice((*int64)(unsafe.Pointer(out)), n)...)
		C.av_free(unsafe.Pointer(out))
	}
	if ret < 0 {
		return nil, fmt.Errorf("read packet %d: %w", n, astiav.Error(ret))
	}
	if pts == nil {
		pts = []int64{}
	}
	return pts, nil
}

// rawFormatContext is the AVFormatContext behind fc. go-astiav v0.43.0 (the
// pinned version) keeps it as the only field of FormatContext and has no
// accessor for it; TestRawFormatContext checks the two agree.
func rawFormatContext(fc *astiav.FormatContext) *C.AVFormatContext {
	return *(**C.AVFormatContext)(unsafe.Pointer(fc))
}

// samplesInside reports whether every sample in fc's index lies inside the
// file (of size bytes) with a valid size. Only then may a shortcut skip
// avformat_find_stream_info: where its reads reach a sample past the end
// ("partial file") or one whose size overflowed the index's 30-bit field,
// the demuxer retries that sample later from another I/O state, and the
// retry can fail differently (a forward seek past the end served from the
// buffer is EOF, a real seek succeeds and the negative size is ENOMEM):
// FuzzProbe found such a file, ok without stream info and a read error with.
func samplesInside(fc *astiav.FormatContext, size int64) bool {
	return C.vidcache_samples_inside(rawFormatContext(fc), C.int64_t(size)) != 0
}

// rawStreamCount reads nb_streams through the raw pointer (for the test).
func rawStreamCount(fc *astiav.FormatContext) int {
	return int(C.vidcache_nb_streams(rawFormatContext(fc)))
}
