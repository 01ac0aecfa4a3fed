# load_bench.py CACHE ROOT REFPICKLE — in the torch 2.6 peer: time loading a
# vidcache cache (weights_only=True, with and without mmap), "dataset ready"
# (load + Kinetics(..., _precomputed_metadata=...)), and, for comparison,
# building and then loading the reference train.py's pickled dataset
# (weights_only=False). Prints JSON.
import json, os, sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, "/fixtures")  # indexer/testdata/import: datasets.KineticsWithVideoId
import torch, torchvision
from torchvision.datasets import Kinetics

cache, root, ref = sys.argv[1], sys.argv[2], sys.argv[3]
out = {"torch": torch.__version__}


def timed(name, fn):
    t = time.perf_counter()
    r = fn()
    out[name] = time.perf_counter() - t
    return r


meta = timed("load", lambda: torch.load(cache, weights_only=True))
timed("load_mmap", lambda: torch.load(cache, weights_only=True, mmap=True))
out["videos"] = len(meta["video_paths"])
ds = timed("dataset_ready", lambda: Kinetics(root, frames_per_clip=16, split="train", num_workers=0,
                                             _precomputed_metadata=torch.load(cache, weights_only=True)))
out["clips"] = ds.video_clips.num_clips()
if not os.path.exists(ref):
    from datasets import KineticsWithVideoId  # the reference script's class
    ref_ds = KineticsWithVideoId(root, frames_per_clip=16, split="train", num_workers=0, _precomputed_metadata=meta)
    torch.save((ref_ds, os.path.join(root, "train")), ref)
    del ref_ds
timed("reference_load", lambda: torch.load(ref, weights_only=False))
print(json.dumps(out))
