# kinetics.py ROOT SPLIT LOAD CONFIG...
#   CONFIG = FPC:STEP:RATE:CACHE  (RATE "native" or a float; CACHE a vidcache file)
#   LOAD   = weights_only | plain   (how torch.load reads each CACHE)
#
# Computes the dataset with torchvision's own Kinetics (pyav backend, its own
# timestamp precompute), then for each CONFIG builds Kinetics twice: from
# torchvision's own metadata and from torch.load(CACHE). Prints everything a
# training job could observe as JSON.
import json, sys, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from torchvision.datasets import Kinetics

root, split, load = sys.argv[1], sys.argv[2], sys.argv[3]
torchvision.set_video_backend("pyav")


# include: kinetics_view.py


def rate(s):
    return None if s == "native" else float(s)


base = Kinetics(root, frames_per_clip=16, split=split, num_workers=0, output_format="TCHW")
meta = base.metadata
out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "configs": []}
for spec in sys.argv[4:]:
    fpc, step, fr, cache = spec.split(":", 3)
    kw = dict(frames_per_clip=int(fpc), step_between_clips=int(step), frame_rate=rate(fr), split=split, num_workers=0, output_format="TCHW")
    tv = Kinetics(root, _precomputed_metadata=meta, **kw)
    loaded = torch.load(cache, weights_only=True) if load == "weights_only" else torch.load(cache)
    vc = Kinetics(root, _precomputed_metadata=loaded, **kw)
    cached = view(vc)
    cached["clip_counts"] = loaded["clip_counts"].tolist()
    cached["labels"] = loaded["labels"].tolist()
    out["configs"].append({"spec": spec, "torchvision": view(tv), "cache": cached})
json.dump(out, sys.stdout)
