# tv_precompute.py ROOT WORKERS — time torchvision's own Kinetics precompute
# (0.21: read_video_timestamps with PyAV; 0.26+: torchcodec's scan) over
# every video, in its DataLoader, and print JSON. The __main__ guard is for
# torchvision 0.27's forkserver workers.
import json, sys, time, warnings
warnings.filterwarnings("ignore")


def main():
    import torch, torchvision
    from torchvision.datasets import Kinetics
    if hasattr(torchvision, "set_video_backend") and tuple(int(x) for x in torchvision.__version__.split(".")[:2]) < (0, 26):
        torchvision.set_video_backend("pyav")
    root, workers = sys.argv[1], int(sys.argv[2])
    t = time.perf_counter()
    ds = Kinetics(root, frames_per_clip=16, split="train", num_workers=workers)
    secs = time.perf_counter() - t
    vc = ds.video_clips
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "videos": len(vc.video_paths),
                      "seconds": secs, "clips": vc.num_clips()}))


if __name__ == "__main__":
    main()
