# pyav_demux.py ROOT — a PyAV demux-only loop over every .mp4 (one process):
# the floor for a Python tool that reads timestamps without decoding.
import glob, json, sys, time
import av


def main():
    files = sorted(glob.glob(sys.argv[1] + "/train/*/*.mp4"))
    t = time.perf_counter()
    frames = 0
    for f in files:
        with av.open(f, metadata_errors="ignore") as c:
            pts = sorted(p.pts for p in c.demux(video=0) if p.pts is not None)
            frames += len(pts)
    secs = time.perf_counter() - t
    print(json.dumps({"av": av.__version__, "videos": len(files), "seconds": secs, "frames": frames}))


if __name__ == "__main__":
    main()
