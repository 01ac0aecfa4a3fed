# load_cache.py PATH MODE — load a cache with torch and print it as JSON.
# MODE: "weights_only" (torch.load(p, weights_only=True)), "mmap" (also mmap=True),
# or "plain" (torch.load(p); the only way torch 1.13 loads a float).
import json, os, sys, torch

path, mode = sys.argv[1], sys.argv[2]
if mode == "weights_only":
    d = torch.load(path, weights_only=True)
elif mode == "mmap":
    d = torch.load(path, weights_only=True, mmap=True)
else:
    d = torch.load(path)

pts = d["video_pts"]
ptrs = {t.untyped_storage().data_ptr() if hasattr(t, "untyped_storage") else t.storage().data_ptr() for t in pts if t.numel()}
out = {
    "torch": torch.__version__,
    "keys": list(d.keys()),
    "video_paths": d["video_paths"],
    "video_paths_hex": [os.fsencode(p).hex() for p in d["video_paths"]],
    "video_pts": [t.tolist() for t in pts],
    "pts_dtypes": sorted({str(t.dtype) for t in pts}),
    "pts_storages": len(ptrs),
    "video_fps": d["video_fps"],
    "classes": d["classes"],
    "labels": d["labels"].tolist(),
    "labels_dtype": str(d["labels"].dtype),
    "clip_counts": d["clip_counts"].tolist(),
    "vidcache": d["vidcache"],
}
json.dump(out, sys.stdout)
