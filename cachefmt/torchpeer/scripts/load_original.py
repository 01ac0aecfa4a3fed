# load_original.py FIXTURE_DIR FILE... — load torchvision caches the way their
# users do (weights_only=False: these fixtures are our own) and print what a
# training job would get: paths, pts, fps, and labels/classes when present.
import json, os, sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, sys.argv[1])
import torch
from torchvision.datasets.video_utils import VideoClips

out = {}
for f in sys.argv[2:]:
    try:
        obj = torch.load(f, weights_only=False)
    except TypeError:
        obj = torch.load(f)
    if isinstance(obj, tuple):
        obj = obj[0]
    labels = classes = None
    if hasattr(obj, "video_clips"):
        labels, classes = [int(s[1]) for s in obj.samples], list(obj.classes)
        obj = obj.video_clips
    if isinstance(obj, VideoClips):
        meta = obj.metadata
    else:
        meta = obj
    out[f] = {
        "video_paths": list(meta["video_paths"]),
        "video_pts": [[int(x) for x in t] for t in meta["video_pts"]],
        "video_fps": list(meta["video_fps"]),
        "fps_types": [type(f).__name__ for f in meta["video_fps"]],
        "labels": labels,
        "classes": classes,
    }
json.dump(out, sys.stdout)
