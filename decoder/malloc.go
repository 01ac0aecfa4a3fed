package decoder

// FFmpeg allocates and frees a 64-byte-aligned buffer for every packet it
// reads (av_malloc: posix_memalign). glibc serves those through its slow
// memalign path with chunk splitting and coalescing: about 20% of a fast
// probe's CPU time in perf. vidcache therefore links jemalloc statically
// (Debian's libjemalloc-dev) as the process allocator, for FFmpeg, SQLite
// and libc alike; the binary still needs nothing beyond libc and libm.
// Interleaved runs on the bench corpus: about 18% less CPU per video and
// 1.25x the videos/s of glibc with fastbins off (the previous tuning).
//
// Two arenas instead of jemalloc's default four per CPU: probes run on a few
// threads and each thread's cache absorbs their allocations, so more arenas
// only hold more freed memory (peak RSS at 20,000 videos: 26 MB instead of
// 29 MB, same speed).

// #cgo LDFLAGS: -l:libjemalloc_pic.a -lm -static-libgcc
// #include <stddef.h>
// const char *malloc_conf = "narenas:2";
// int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
// static const char *vidcache_je_version(void) {
//   const char *v = NULL; size_t n = sizeof v;
//   return mallctl("version", &v, &n, NULL, 0) == 0 ? v : NULL;
// }
// static int vidcache_je_narenas(void) {
//   unsigned a = 0; size_t n = sizeof a;
//   return mallctl("opt.narenas", &a, &n, NULL, 0) == 0 ? (int)a : -1;
// }
// static long long vidcache_je_allocated(void) {
//   unsigned long long epoch = 1; size_t allocated = 0, n = sizeof allocated;
//   if (mallctl("epoch", NULL, NULL, &epoch, sizeof epoch) != 0 ||
//       mallctl("stats.allocated", &allocated, &n, NULL, 0) != 0)
//     return -1;
//   return (long long)allocated;
// }
import "C"

// Allocator reports the process allocator: jemalloc's version and its arena
// count (for tests and `vidcache version`).
func Allocator() (version string, arenas int) {
	if v := C.vidcache_je_version(); v != nil {
		version = C.GoString(v)
	}
	return version, int(C.vidcache_je_narenas())
}

// cHeapBytes is what the C side (FFmpeg, SQLite) holds allocated right now,
// from jemalloc's statistics; -1 if they are unavailable. For leak tests.
func cHeapBytes() int64 { return int64(C.vidcache_je_allocated()) }
