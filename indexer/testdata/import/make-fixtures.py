# make-fixtures.py ROOT OUTDIR — write the caches users have today, with the
# torch/torchvision this runs on (run on both peers; see README in this folder):
#   <tag>-reference-script.pt          torch.save((KineticsWithVideoId, traindir)), as train.py does
#   <tag>-reference-script-legacy.pt   the same with _use_new_zipfile_serialization=False
#   <tag>-video-clips.pt               torch.save(VideoClips)
#   <tag>-kinetics.pt                  torch.save(Kinetics)
#   <tag>-metadata.pt                  torch.save(dataset.metadata)
import os, sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch, torchvision
from torchvision.datasets import Kinetics
from datasets import KineticsWithVideoId

root, out = sys.argv[1], sys.argv[2]
tag = "tv" + ".".join(torchvision.__version__.split(".")[:2])
traindir = os.path.join(root, "train")
ds = KineticsWithVideoId(root, frames_per_clip=4, step_between_clips=2, frame_rate=15, split="train", num_workers=0)
torch.save((ds, traindir), os.path.join(out, tag + "-reference-script.pt"))
torch.save((ds, traindir), os.path.join(out, tag + "-reference-script-legacy.pt"), _use_new_zipfile_serialization=False)
torch.save(ds.video_clips, os.path.join(out, tag + "-video-clips.pt"))
plain = Kinetics(root, frames_per_clip=8, split="train", num_workers=0, _precomputed_metadata=ds.metadata)
torch.save(plain, os.path.join(out, tag + "-kinetics.pt"))
torch.save(ds.metadata, os.path.join(out, tag + "-metadata.pt"))
print(tag, "fixtures written")

if tag == "tv0.14":
    import os as _os

    class Evil:
        def __reduce__(self):
            return (_os.system, ("echo pwned",))

    # Refusals: an unknown layout; video_pts that are not timestamps.
    torch.save({"weights": torch.arange(3)}, os.path.join(out, "refuse-unknown-layout.pt"))
    torch.save({"video_paths": ["/x/train/a/v.mp4"], "video_pts": ["0 1 2"], "video_fps": [25.0]}, os.path.join(out, "refuse-tampered-types.pt"))
    # Converted from its data, with a warning: a dataset that also carries
    # something that would run a shell command when unpickled.
    ds.extra = Evil()
    torch.save((ds, traindir), os.path.join(out, "malicious-extra.pt"))
    print("refusal fixtures written")
