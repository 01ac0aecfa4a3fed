# torchcodec_raises.py PATH...: for each path, what torchvision 0.27's
# precompute does with it: torchcodec.decoders.VideoDecoder(path) and its
# metadata, or the exception it raises. Prints a JSON list.
import json, sys, warnings
warnings.filterwarnings("ignore")


def main():
    import torchcodec
    out = []
    for p in sys.argv[1:]:
        try:
            m = torchcodec.decoders.VideoDecoder(p).metadata
            out.append({"path": p, "raises": False, "num_frames": m.num_frames, "average_fps": m.average_fps,
                        "fps_type": type(m.average_fps).__name__, "stream": m.stream_index})
        except Exception as e:
            out.append({"path": p, "raises": True, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
