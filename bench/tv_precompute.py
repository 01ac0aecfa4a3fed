# tv_precompute.py ROOT WORKERS — time torchvision's own Kinetics precompute
# (read_video_timestamps over every video, in a DataLoader) and print JSON.
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from torchvision.datasets import Kinetics
torchvision.set_video_backend("pyav")
root, workers = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
ds = Kinetics(root, frames_per_clip=16, split="train", num_workers=workers)
secs = time.perf_counter() - t
n = len(ds.video_clips.video_paths)
print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "videos": n, "seconds": secs,
                  "frames": sum(len(p) for p in ds.video_clips.video_pts)}))
