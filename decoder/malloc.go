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
// static long long vidcache_je_live(void) {
//   unsigned long long epoch = 1;
//   size_t allocated = 0, cached = 0, stashed = 0, internal = 0, n = sizeof(size_t);
//   if (mallctl("epoch", NULL, NULL, &epoch, sizeof epoch) != 0 ||
//       mallctl("stats.allocated", &allocated, &n, NULL, 0) != 0 ||
//       mallctl("stats.arenas.4096.tcache_bytes", &cached, &n, NULL, 0) != 0 ||
//       mallctl("stats.arenas.4096.tcache_stashed_bytes", &stashed, &n, NULL, 0) != 0 ||
//       mallctl("stats.arenas.4096.internal", &internal, &n, NULL, 0) != 0)
//     return -1;
//   return (long long)allocated - (long long)cached - (long long)stashed - (long long)internal;
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
//
// jemalloc counts a freed small object as allocated while it sits in a
// thread's cache (tcache), and every OS thread Go runs a cgo call on has
// its own cache, plus ~29 KB of jemalloc's internal allocations for it.
// Both depend on which and how many threads the probes happened to run on
// (with GOMAXPROCS=8, "allocated" moved by ~560 KB between two
// measurements with no leak; this failed a CI run). The cached, stashed
// and internal bytes of all arenas (MALLCTL_ARENAS_ALL = 4096) are
// therefore subtracted: what remains is what the program holds, and it
// moves by under 1 KB over 4,000 probes on 1 to 32 threads.
func cHeapBytes() int64 { return int64(C.vidcache_je_live()) }
