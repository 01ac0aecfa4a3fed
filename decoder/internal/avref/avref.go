// Package avref exposes FFmpeg's libavutil arithmetic that package bmff
// reimplements (av_reduce, av_rescale), so that tests can compare the two.
package avref

// #cgo pkg-config: libavutil
// #include <libavutil/rational.h>
// #include <libavutil/mathematics.h>
import "C"

// Reduce is av_reduce(num, den, max).
func Reduce(num, den, max int64) (int64, int64) {
	var n, d C.int
	C.av_reduce(&n, &d, C.int64_t(num), C.int64_t(den), C.int64_t(max))
	return int64(n), int64(d)
}

// Rescale is av_rescale(a, b, c).
func Rescale(a, b, c int64) int64 {
	return int64(C.av_rescale(C.int64_t(a), C.int64_t(b), C.int64_t(c)))
}
