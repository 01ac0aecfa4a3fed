// Package clips is torchvision VideoClips' clip math, pure and separate from
// how videos are read: resampling to a frame rate (_resample_video_idx),
// clip counts (unfold windows), each clip's frames, and the mapping of a
// global clip index to its video (get_clip_location). It equals torchvision
// 0.21's and 0.27's own results on a 12,000-case golden table each.
package clips

import (
	"fmt"
	"math"
	"sort"
)

// Spec is the clip configuration of VideoClips.
type Spec struct {
	FramesPerClip    int      `json:"frames_per_clip"`    // num_frames
	StepBetweenClips int      `json:"step_between_clips"` // step
	FrameRate        *float64 `json:"frame_rate"`         // target rate; nil keeps each video's own
}

// Validate rejects configurations torchvision cannot use.
func (s Spec) Validate() error {
	if s.FramesPerClip < 1 {
		return fmt.Errorf("frames per clip must be at least 1, not %d", s.FramesPerClip)
	}
	if s.StepBetweenClips < 1 {
		return fmt.Errorf("step between clips must be at least 1, not %d", s.StepBetweenClips)
	}
	if s.FrameRate != nil && !(*s.FrameRate > 0 && !math.IsInf(*s.FrameRate, 0)) {
		return fmt.Errorf("frame rate must be a positive number, not %v", *s.FrameRate)
	}
	return nil
}

// Resampling is VideoClips._resample_video_idx's result: either every Step-th
// frame (Slice) or N frames where frame k is floor(float32(k) * Ratio).
// The index list torchvision materializes is computed on demand: a frame
// rate taken from a damaged header (1/2147483647 fps, say) would otherwise
// make a 50-frame video allocate terabytes.
type Resampling struct {
	Slice bool
	Step  int     // when Slice
	N     int     // otherwise: the number of resampled frames
	Ratio float32 // otherwise
}

// Len is the number of frames after resampling n frames.
func (r Resampling) Len(n int) int {
	if r.Slice {
		return (n + r.Step - 1) / r.Step
	}
	return r.N
}

// Frame maps the k-th resampled frame to an index into the original frames.
func (r Resampling) Frame(k int) int {
	if r.Slice {
		return k * r.Step
	}
	return int(math.Floor(float64(float32(k) * r.Ratio)))
}

// maxResampled bounds the resampled frame count: float32 indexes stop
// being distinct long before, and torchvision could not allocate the list.
const maxResampled = 1 << 53

// Resample reproduces torchvision 0.21's compute_clips_for_video resampling of
// n frames at fps to frameRate (nil fps: 1; nil frameRate: fps):
// total = n * frame_rate / fps (float64, left to right); ratio = fps /
// frame_rate; an integer ratio keeps pts[::ratio], otherwise frame i of
// floor(total) maps to floor(float32(i) * float32(ratio)). Where torchvision
// raises (an index past the last frame, a NaN or negative total), so does
// Resample, with an error.
func Resample(n int, fps, frameRate *float64) (Resampling, error) {
	f := 1.0
	if fps != nil {
		f = *fps
	}
	fr := f
	if frameRate != nil {
		fr = *frameRate
	}
	total := float64(n) * fr / f
	ratio := f / fr
	if ratio == math.Trunc(ratio) && !math.IsInf(ratio, 0) {
		if ratio < 1 {
			return Resampling{}, fmt.Errorf("resample: step %v", ratio)
		}
		return Resampling{Slice: true, Step: int(ratio)}, nil
	}
	if !(total >= 0 && total < maxResampled) {
		return Resampling{}, fmt.Errorf("resample: %d frames at %v fps to %v fps make %v frames", n, f, fr, total)
	}
	r := Resampling{N: int(math.Floor(total)), Ratio: float32(ratio)}
	// float32(k) * Ratio never decreases with k, so the last index is the
	// largest.
	if r.N > 0 {
		if last := r.Frame(r.N - 1); last >= n {
			// torchvision would raise IndexError indexing video_pts here.
			return Resampling{}, fmt.Errorf("resample: frame index %d out of range for %d frames", last, n)
		}
	}
	return r, nil
}

// Count is unfold's window count over m resampled frames.
func Count(m, framesPerClip, step int) int {
	d := m - framesPerClip
	q := d / step
	if d < 0 && d%step != 0 {
		q-- // Python's floor division
	}
	if q+1 < 1 {
		return 0
	}
	return q + 1
}

// ForVideo is the number of clips torchvision makes of a video with n
// frames at fps under spec.
func ForVideo(n int, fps *float64, spec Spec) (int, error) {
	r, err := Resample(n, fps, spec.FrameRate)
	if err != nil {
		return 0, err
	}
	return Count(r.Len(n), spec.FramesPerClip, spec.StepBetweenClips), nil
}

// Clip returns the pts of clip k of a video: resampled frames
// [k*step, k*step+framesPerClip).
func Clip(pts []int64, r Resampling, spec Spec, k int) []int64 {
	out := make([]int64, spec.FramesPerClip)
	for j := range out {
		out[j] = pts[r.Frame(k*spec.StepBetweenClips+j)]
	}
	return out
}

// CumulativeSizes is the running sum of clip counts.
func CumulativeSizes(counts []int64) []int64 {
	out := make([]int64, len(counts))
	var s int64
	for i, c := range counts {
		s += c
		out[i] = s
	}
	return out
}

// Locate is VideoClips.get_clip_location: the video holding global clip
// idx (bisect_right over cumulative sizes) and the clip's index within it.
func Locate(cum []int64, idx int64) (video int, clip int64, err error) {
	if idx < 0 || len(cum) == 0 || idx >= cum[len(cum)-1] {
		return 0, 0, fmt.Errorf("clip index %d out of range", idx)
	}
	video = sort.Search(len(cum), func(i int) bool { return cum[i] > idx })
	if video == 0 {
		return 0, idx, nil
	}
	return video, idx - cum[video-1], nil
}
