# clips_golden.py — print the clip-math golden table (TSV) from torchvision's
# own VideoClips.compute_clips_for_video. Regenerate with `make golden`.
# Columns: n fps frame_rate num_frames step | resampled_len clips idx_sum idx_last
#   fps / frame_rate: Python repr of the float, or None
#   idx_sum, idx_last: sum and last of the resampled frame indexes (-1 if none)
import random, sys, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from torchvision.datasets.video_utils import VideoClips

FPS = [6, 10, 12.5, 15, 23.976, 24, 24000 / 1001, 25, 29.97, 30000 / 1001, 30, 50, 59.94, 60]
RATES = [None, 5, 7.5, 8, 10, 15, 16, 24, 30000 / 1001]
LENS = [1, 2, 4, 8, 16, 32, 64]
STEPS = [1, 2, 3, 4, 8, 16, 32]

rng = random.Random(20261128)
cases = [(1600, 24000 / 1001, 15, 16, 1)]  # 0.14 and 0.21 floor this one differently
for fps in FPS:
    for rate in RATES:
        for n in (0, 1, 2, 15, 16, 17, 299, 300, 301, 5000):
            cases.append((n, fps, rate, 16, 1))
while len(cases) < 12000:
    n = rng.choice([rng.randint(0, 64), rng.randint(0, 5000)])
    cases.append((n, rng.choice(FPS), rng.choice(RATES), rng.choice(LENS), rng.choice(STEPS)))

out = sys.stdout
out.write("# torchvision %s torch %s: n fps frame_rate num_frames step | resampled clips idx_sum idx_last\n" % (torchvision.__version__, torch.__version__))
for n, fps, rate, nf, step in cases:
    pts = torch.arange(n, dtype=torch.int64)
    fps_f = float(fps)
    rate_f = None if rate is None else float(rate)
    clips, idxs = VideoClips.compute_clips_for_video(pts, nf, step, fps_f, rate_f)
    # The resampled frames are what the clips index: recompute them the same way.
    total = len(pts) * (rate_f if rate_f is not None else fps_f) / fps_f
    r = VideoClips._resample_video_idx(int(total // 1), fps_f, rate_f if rate_f is not None else fps_f)
    res = pts[r]
    s = int(res.sum()) if res.numel() else 0
    last = int(res[-1]) if res.numel() else -1
    out.write("%d\t%r\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n" % (n, fps_f, "None" if rate_f is None else repr(rate_f), nf, step, res.numel(), clips.shape[0], s, last))
