#!/usr/bin/env python3
"""make bench: vidcache beside torchvision, in one run on this machine.

Everything big is made once and kept in $VIDCACHE_DEPS (default
~/.cache/vidcache-deps): the corpus, the 20,000-video tree, the synthetic
240,000-video cache and its tree of empty files, the reference pickle.
Prints one table and writes it to bench/results.md.
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEPS = subprocess.run(["bash", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "deps.sh"), "dir"],
                      check=True, capture_output=True, text=True).stdout.strip()
BIN = os.path.join(REPO, "bin", "vidcache")
CORPUS = os.path.join(DEPS, "bench-corpus")
SUBSET = os.path.join(DEPS, "bench-subset200")
TREE10K = os.path.join(DEPS, "bench-tree10k")
TREE20K = os.path.join(DEPS, "bench-tree20k")
SYNTH = os.path.join(DEPS, "bench-synth240k")
JOBS = 2


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(cmd, env=e, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


# This benchmark measures the torchvision-pyav target against torchvision 0.21
# (the PyAV era); the torchvision 0.27 comparison is issue 14's to add.
PYAV = ["--target", "torchvision-pyav"]


def build(root, home, *args):
    """vidcache build with its own VIDCACHE_HOME; returns its --json result."""
    out = run([BIN, "build", root, "--jobs", str(JOBS), "--json", *PYAV, *args], env={"VIDCACHE_HOME": home})
    return json.loads(out)


def build_rss(root, home, *args):
    """vidcache build in a fresh process, measured with wait4 for its own peak RSS."""
    e = dict(os.environ, VIDCACHE_HOME=home)
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execve(BIN, [BIN, "build", root, "--jobs", str(JOBS), "--quiet", *PYAV, *args], e)
    _, status, ru = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"bench: vidcache build {root} failed")
    return ru.ru_maxrss / 1024.0


def link_tree(src_files, dst, n, classes=40):
    if os.path.exists(os.path.join(dst, ".complete")):
        return
    shutil.rmtree(dst, ignore_errors=True)
    for i in range(n):
        f = src_files[i % len(src_files)]
        d = os.path.join(dst, "train", "class_%02d" % (i % classes))
        os.makedirs(d, exist_ok=True)
        os.link(f, os.path.join(d, "v%06d.mp4" % i))
    open(os.path.join(dst, ".complete"), "w").close()


def peer(script_args, binds):
    """Run python3 in the Debian 13 root (torch 2.6), with binds visible at the same paths."""
    root = run([os.path.join(REPO, "scripts", "peer.sh"), "root"]).strip()
    if not root:
        raise SystemExit("bench: no Debian 13 peer; run make peer")
    sh = ['set -e', f'R="{root}"', 'mount -t proc proc "$R/proc" 2>/dev/null || true',
          'mount -t tmpfs tmpfs "$R/dev/shm"', 'mkdir -p "$R/bench" "$R/fixtures"', f'mount --bind "{HERE}" "$R/bench"',
          f'mount --bind "{os.path.join(REPO, "indexer", "testdata", "import")}" "$R/fixtures"']
    for b in binds:
        sh += [f'mkdir -p "$R{b}"', f'mount --bind "{b}" "$R{b}"']
    sh.append('exec chroot "$R" python3 ' + " ".join(f"'{a}'" for a in script_args) + ' 2>/dev/null')
    out = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(sh)],
                         check=True, text=True, stdout=subprocess.PIPE).stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for l in f:
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    go = run(["go", "version"]).strip()
    ver = run([BIN, "version"]).strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Linux {platform.release()}, {go}, {ver}"


def main():
    t0 = time.perf_counter()
    if not shutil.which("ffmpeg"):
        log("installing the ffmpeg CLI for the corpus")
        subprocess.run(["apt-get", "install", "-y", "-qq", "ffmpeg"], check=True, stdout=subprocess.DEVNULL)
    log("corpus (made once)")
    subprocess.run([os.path.join(HERE, "make-corpus.sh"), CORPUS, "1000"], check=True)
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(CORPUS, "train")) for f in fs if f.endswith(".mp4"))
    if not os.path.exists(os.path.join(SUBSET, ".complete")):
        shutil.rmtree(SUBSET, ignore_errors=True)
        for cls in sorted(os.listdir(os.path.join(CORPUS, "train"))):
            d = os.path.join(SUBSET, "train", cls)
            os.makedirs(d)
            for f in sorted(os.listdir(os.path.join(CORPUS, "train", cls)))[:5]:
                os.link(os.path.join(CORPUS, "train", cls, f), os.path.join(d, f))
        open(os.path.join(SUBSET, ".complete"), "w").close()
    link_tree(files, TREE10K, 10000)
    link_tree(files, TREE20K, 20000)

    rows = []  # (what, videos/s, ratio to torchvision, seconds, MB, note)

    log("torchvision 0.21 precompute, 200 videos, num_workers=2")
    tv = peer(["/bench/tv_precompute.py", SUBSET, "2"], [SUBSET])
    tv_rate = tv["videos"] / tv["seconds"]
    rows.append(("torchvision %s Kinetics precompute (200 videos, num_workers=2)" % tv["torchvision"], tv_rate, 1.0, tv["seconds"], None,
                 "K400 train (241,190 videos): %.1f h" % (241190 / tv_rate / 3600)))
    log("PyAV demux-only loop, one process")
    pa = peer(["/bench/pyav_demux.py", SUBSET], [SUBSET])
    pa_rate = pa["videos"] / pa["seconds"]
    rows.append(("PyAV %s demux-only loop (1 core)" % pa["av"], pa_rate, pa_rate / tv_rate, pa["seconds"], None, "floor for a Python tool"))

    with tempfile.TemporaryDirectory() as tmp:
        log("vidcache fast, 1,000 videos, --jobs 2 (median of 3 fresh builds)")
        fast = []
        for i in range(3):
            r = build(CORPUS, os.path.join(tmp, "f%d" % i))
            fast.append(r["seconds"])
        fs = statistics.median(fast)
        fast_rate = 1000 / fs
        rows.append(("vidcache build --mode fast --jobs 2 (1,000 videos)", fast_rate, fast_rate / tv_rate, fs, None,
                     "%.1f x PyAV per core; K400 train: %.0f s" % (fast_rate / JOBS / pa_rate, 241190 / fast_rate)))
        log("vidcache exact, 1,000 videos, --jobs 2")
        r = build(CORPUS, os.path.join(tmp, "e"), "--mode", "exact")
        rows.append(("vidcache build --mode exact --jobs 2 (1,000 videos)", 1000 / r["seconds"], 1000 / r["seconds"] / tv_rate, r["seconds"], None,
                     "identical to torchvision"))
        # The cheap runs take a fraction of a second: each is the median of
        # three (no-change: three re-runs; clip options: three new
        # configurations, each a cache rewrite with zero probing).
        def incremental(root, home, n):
            nochange = statistics.median(build(root, home)["seconds"] for _ in range(3))
            rs = [build(root, home, "--frames-per-clip", str(f), "--frame-rate", "15") for f in (8, 12, 20)]
            if any(r["probed"] or not r["written"] for r in rs):
                raise SystemExit("bench: a clip-option-only change probed videos or left the cache unwritten")
            rows.append(("no-change re-run (%s videos)" % format(n, ","), n / nochange, None, nochange, None, "median of 3, probed 0"))
            clip = statistics.median(r["seconds"] for r in rs)
            rows.append(("clip-option-only change (%s videos)" % format(n, ","), n / clip, None, clip, None, "median of 3, probed 0, cache rewritten"))

        incremental(CORPUS, os.path.join(tmp, "f0"), 1000)
        log("10,000- and 20,000-video trees (hard links)")
        h10 = os.path.join(tmp, "t10")
        build(TREE10K, h10)
        incremental(TREE10K, h10, 10000)
        rss1 = statistics.median(build_rss(CORPUS, os.path.join(tmp, "r1-%d" % i)) for i in range(3))
        rss20 = statistics.median(build_rss(TREE20K, os.path.join(tmp, "r20-%d" % i)) for i in range(3))
        rows.append(("peak RSS, fresh build of 1,000 videos", None, None, None, rss1, "median of 3"))
        rows.append(("peak RSS, fresh build of 20,000 videos", None, None, None, rss20, "median of 3; %.2f x the 1,000-video RSS" % (rss20 / rss1)))

    log("240,000-video synthetic cache (300 frames each) and its tree of empty files")
    os.makedirs(SYNTH, exist_ok=True)
    cache = os.path.join(SYNTH, "k240k.pt")
    droot = os.path.join(SYNTH, "data")
    if not os.path.exists(os.path.join(SYNTH, ".complete")):
        shutil.rmtree(droot, ignore_errors=True)
        env = {"PKG_CONFIG_PATH": run([os.path.join(REPO, "scripts", "ffmpeg.sh"), "env"]).strip(), "PKG_CONFIG": "pkg-config --static", "CGO_ENABLED": "1"}
        subprocess.run(["go", "run", "./bench/synth", "-root", droot, "-out", cache, "-tree"], cwd=REPO, check=True, env=dict(os.environ, **env))
        open(os.path.join(SYNTH, ".complete"), "w").close()
    size = os.path.getsize(cache) / 2**20
    ld = peer(["/bench/load_bench.py", cache, droot, os.path.join(SYNTH, "reference-dataset.pt")], [SYNTH])
    rows.append(("torch.load(weights_only=True), 240k-video cache", None, None, ld["load"], size, "%d videos, 72M frames" % ld["videos"]))
    rows.append(("torch.load(weights_only=True, mmap=True)", None, None, ld["load_mmap"], None, ""))
    rows.append(("dataset ready: load + Kinetics(_precomputed_metadata=...)", None, None, ld["dataset_ready"], None,
                 "%.2f x the reference pickle" % (ld["dataset_ready"] / ld["reference_load"])))
    rows.append(("reference train.py pickle: torch.load(weights_only=False)", None, None, ld["reference_load"], None, "needs weights_only=False"))

    table = ["| measurement | videos/s | × torchvision | seconds | MB | note |", "|---|---:|---:|---:|---:|---|"]
    for what, rate, ratio, secs, mb, note in rows:
        table.append("| %s | %s | %s | %s | %s | %s |" % (
            what, "" if rate is None else "{:,.1f}".format(rate), "" if ratio is None else "%.1f" % ratio,
            "" if secs is None else "%.3f" % secs, "" if mb is None else "%.0f" % mb, note))
    text = "\n".join(table)
    print(text)
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("# vidcache benchmark\n\n")
        f.write("Measured by `make bench` on %s, %s.\n\n" % (machine(), time.strftime("%Y-%m-%d")))
        f.write("Corpus: 1,000 ten-second 340x256 H.264 (B-frames) + AAC MP4 clips at 24/25/29.97/30 fps in 40 classes "
                "(100 distinct encodes, copied). torchvision and PyAV run in the Debian 13 peer (torch 2.6, torchvision 0.21, "
                "PyAV 14) on a 200-video subset; ratios are to torchvision's videos/s measured in the same run.\n\n")
        f.write(text + "\n")
    log("done in %.0f s; table in bench/results.md" % (time.perf_counter() - t0))


if __name__ == "__main__":
    main()
