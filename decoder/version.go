package decoder

// #cgo pkg-config: libavutil
// #include <libavutil/avutil.h>
import "C"

func ffmpegVersion() string { return C.GoString(C.av_version_info()) }
