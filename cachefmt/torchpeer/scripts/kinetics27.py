# kinetics27.py ROOT SPLIT WHAT CONFIG...
#   CONFIG = FPC:STEP:RATE:CACHE  (RATE "native" or a float; CACHE a vidcache file)
#   WHAT   = compare: torchvision 0.27 computes the dataset itself (torchcodec),
#            then for each CONFIG Kinetics is built from its own metadata and
#            from torch.load(CACHE, weights_only=True); both views are printed,
#            with decoded frames of sampled clips compared in here.
#          | cache: only the cache side (for trees on which torchvision raises).
# torchvision 0.27 on Python 3.14: DataLoader workers use forkserver, hence
# the __main__ guard.
import json, sys, warnings
warnings.filterwarnings("ignore")


# include: kinetics_view.py


def sampled(n, k=8):
    return sorted({int(i * (n - 1) / max(1, k - 1)) for i in range(k)}) if n else []


def item(ds, idx):
    # What a KineticsWithVideoId-style training loop sees for clip idx; a
    # damaged video can fail to decode (torchvision's own behaviour).
    video_idx, _ = ds.video_clips.get_clip_location(idx)
    try:
        video, audio, label = ds[idx]
    except RuntimeError as e:
        return None, str(e).splitlines()[0], int(video_idx)
    return video, int(label), int(video_idx)


def main():
    import torch, torchvision
    from torchvision.datasets import Kinetics

    root, split, what = sys.argv[1], sys.argv[2], sys.argv[3]

    def rate(s):
        return None if s == "native" else float(s)

    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "configs": []}
    meta = None
    if what == "compare":
        base = Kinetics(root, frames_per_clip=16, split=split, num_workers=0, output_format="TCHW")
        meta = base.metadata
    for spec in sys.argv[4:]:
        fpc, step, fr, cache = spec.split(":", 3)
        kw = dict(frames_per_clip=int(fpc), step_between_clips=int(step), frame_rate=rate(fr), split=split, num_workers=0, output_format="TCHW")
        loaded = torch.load(cache, weights_only=True)
        vc = Kinetics(root, _precomputed_metadata=loaded, **kw)
        cached = view(vc)
        cached["clip_counts"] = loaded["clip_counts"].tolist()
        cached["labels"] = loaded["labels"].tolist()
        cached["storages"] = len({t.untyped_storage().data_ptr() for t in loaded["video_pts"] if t.numel()})
        res = {"spec": spec, "cache": cached}
        if meta is not None:
            tv = Kinetics(root, _precomputed_metadata=meta, **kw)
            res["torchvision"] = view(tv)
            frames = []
            for idx in sampled(tv.video_clips.num_clips()):
                a, b = item(tv, idx), item(vc, idx)
                if a[0] is None or b[0] is None:
                    # Both must fail alike; the error stands in for the label.
                    equal, shape = a[0] is None and b[0] is None and a[1] == b[1], []
                    a, b = (a[0], -1, a[2]), (b[0], -1 if b[0] is None else b[1], b[2])
                else:
                    equal, shape = bool(torch.equal(a[0], b[0])), list(a[0].shape)
                frames.append({"idx": idx, "shape": shape, "equal": equal, "label": [a[1], b[1]], "video_idx": [a[2], b[2]]})
            res["frames"] = frames
        else:
            # Every clip of the cache side decodes (bad files have none).
            res["decoded"] = [list(v.shape) if v is not None else [] for v, _, _ in (item(vc, idx) for idx in sampled(vc.video_clips.num_clips()))]
        out["configs"].append(res)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
