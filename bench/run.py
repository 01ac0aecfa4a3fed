#!/usr/bin/env python3
"""make bench: vidcache beside torchvision, in one run on this machine.

Everything big is made once and kept in $VIDCACHE_DEPS (default
~/.cache/vidcache-deps): the corpus, the 20,000-video tree, the synthetic
240,000-video cache and its tree of empty files, the reference pickle.
Prints one table and writes it to bench/results.md.
"""
import contextlib
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
DEPS = subprocess.run(["bash", os.path.join(REPO, "scripts", "deps.sh"), "dir"],
                      check=True, capture_output=True, text=True).stdout.strip()
BIN = os.path.join(REPO, "bin", "vidcache")
CORPUS = os.path.join(DEPS, "bench-corpus2k")   # 2,000 distinct ten-second clips
LONG = os.path.join(DEPS, "bench-long")         # 40 distinct sixty-second 720p clips
SUBSET = os.path.join(DEPS, "bench-subset200")  # 200 of CORPUS (hard links), for the slow tools
TREE1K = os.path.join(DEPS, "bench-tree1k")
TREE20K = os.path.join(DEPS, "bench-tree20k")
SYNTH = os.path.join(DEPS, "bench-synth240k")
JOBS = 2
THROTTLE = 100 * 1000 * 1000  # cold reads: 100 MB/s, like a network share
CGROUP = "/sys/fs/cgroup/blkio/vidcache-bench"
SLOW_MNT = os.path.join(DEPS, "bench-slowmnt")  # the corpus through slowfs
SLOW_DELAY = "2ms"                               # added to every read there
FLOOR_BIN = os.path.join(DEPS, "bench-floor")
SLOWFS_BIN = os.path.join(DEPS, "bench-slowfs")


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(cmd, env=e, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def videos(root):
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(root, "train")) for f in fs if f.endswith(".mp4"))


def tree_bytes(root):
    return sum(os.path.getsize(f) for f in videos(root))


class Disk:
    """Cold runs: the corpus's pages evicted, reads throttled, bytes counted.

    Every measured process runs in one blkio cgroup (v1): its
    blkio.throttle.io_service_bytes counts the bytes read from the device
    (readahead included) by the process and its children; for cold runs the
    cgroup's read_bps_device is set to THROTTLE for the disk under the corpus.
    """

    def __init__(self, path):
        d = os.stat(path).st_dev
        self.dev = "%d:%d" % (os.major(d), os.minor(d))
        os.makedirs(CGROUP, exist_ok=True)
        self.throttle(False)

    def throttle(self, on):
        with open(os.path.join(CGROUP, "blkio.throttle.read_bps_device"), "w") as f:
            f.write("%s %d" % (self.dev, THROTTLE if on else 0))

    def read_bytes(self):
        with open(os.path.join(CGROUP, "blkio.throttle.io_service_bytes")) as f:
            for l in f:
                p = l.split()
                if len(p) == 3 and p[0] == self.dev and p[1] == "Read":
                    return int(p[2])
        return 0

    @staticmethod
    def evict(roots):
        for root in roots:
            for f in videos(root):
                fd = os.open(f, os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)

    def measure(self, cmd, cold, roots, env=None):
        """Runs cmd in the cgroup; returns (stdout, wall seconds, device bytes read)."""
        if cold:
            self.evict(roots)
            self.throttle(True)
        else:
            for f in (f for r in roots for f in videos(r)):  # warm: in the page cache
                with open(f, "rb") as fh:
                    while fh.read(1 << 20):
                        pass
        b0 = self.read_bytes()
        t = time.perf_counter()
        try:
            out = run(["sh", "-c", 'echo $$ > %s/cgroup.procs && exec "$@"' % CGROUP, "sh", *cmd], env=env)
        finally:
            secs = time.perf_counter() - t
            self.throttle(False)
        return out, secs, self.read_bytes() - b0


class SlowStore:
    """The high-latency store: the corpus through slowfs (bench/slowfs), a
    FUSE passthrough that adds SLOW_DELAY to every read request. Mounted
    afresh for each measured run, so that no run finds the FUSE page cache
    of another; the corpus underneath is in the page cache (warm), so the
    delay is all the store costs."""

    def __init__(self, src):
        self.src = src
        self.proc = None

    def __enter__(self):
        os.makedirs(SLOW_MNT, exist_ok=True)
        subprocess.run(["umount", SLOW_MNT], stderr=subprocess.DEVNULL)
        self.proc = subprocess.Popen([SLOWFS_BIN, "-delay", SLOW_DELAY, self.src, SLOW_MNT], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("bench: slowfs did not mount")
        return SLOW_MNT

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()
        subprocess.run(["umount", SLOW_MNT], stderr=subprocess.DEVNULL)


def vidcache_cmd(root, *args):
    return [BIN, "build", root, "--jobs", str(JOBS), "--json", *args]


def build(root, home, *args):
    """vidcache build with its own VIDCACHE_HOME; returns its --json result."""
    return json.loads(run(vidcache_cmd(root, *args), env={"VIDCACHE_HOME": home}))


def build_rss(root, home, *args):
    """vidcache build in a fresh process, measured with wait4 for its own peak RSS."""
    e = dict(os.environ, VIDCACHE_HOME=home)
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execve(BIN, [BIN, "build", root, "--jobs", str(JOBS), "--quiet", *args], e)
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


def peer_cmd(name, script_args, binds):
    """The command that runs python3 in peer NAME's root (trixie: torch 2.6 / torchvision 0.21;
    sid: torch 2.14 / torchvision 0.27), with binds visible at the same paths."""
    root = run([os.path.join(REPO, "scripts", "peer.sh"), "root", name]).strip()
    if not root:
        raise SystemExit("bench: no %s peer; run make peer" % name)
    sh = ['set -e', f'R="{root}"', 'mount -t proc proc "$R/proc" 2>/dev/null || true',
          'mount -t tmpfs tmpfs "$R/dev/shm"', 'mkdir -p "$R/bench" "$R/fixtures"', f'mount --bind "{HERE}" "$R/bench"',
          f'mount --bind "{os.path.join(REPO, "indexer", "testdata", "import")}" "$R/fixtures"']
    for b in binds:
        sh += [f'mkdir -p "$R{b}"', f'mount --bind "{b}" "$R{b}"']
    sh.append('exec chroot "$R" python3 ' + " ".join(f"'{a}'" for a in script_args) + ' 2>/dev/null')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(sh)]


def last_json(out):
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def peer(name, script_args, binds):
    return last_json(run(peer_cmd(name, script_args, binds)))


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
    log("corpora (made once): 2,000 distinct ten-second clips, 40 distinct sixty-second 720p clips")
    subprocess.run([os.path.join(HERE, "make-corpus.sh"), CORPUS, "2000", "short"], check=True)
    subprocess.run([os.path.join(HERE, "make-corpus.sh"), LONG, "40", "long"], check=True)
    files = videos(CORPUS)
    if not os.path.exists(os.path.join(SUBSET, ".complete")):
        shutil.rmtree(SUBSET, ignore_errors=True)
        for cls in sorted(os.listdir(os.path.join(CORPUS, "train"))):
            d = os.path.join(SUBSET, "train", cls)
            os.makedirs(d)
            for f in sorted(os.listdir(os.path.join(CORPUS, "train", cls)))[:5]:
                os.link(os.path.join(CORPUS, "train", cls, f), os.path.join(d, f))
        open(os.path.join(SUBSET, ".complete"), "w").close()
    link_tree(files, TREE1K, 1000)
    link_tree(files, TREE20K, 20000)
    for binary, pkg in ((FLOOR_BIN, "./bench/floor"), (SLOWFS_BIN, "./bench/slowfs")):
        subprocess.run(["go", "build", "-o", binary, pkg], cwd=REPO, check=True)
    disk = Disk(CORPUS)
    size = {r: tree_bytes(r) for r in (CORPUS, LONG, SUBSET)}
    count = {r: len(videos(r)) for r in (CORPUS, LONG, SUBSET)}
    label = {CORPUS: "2,000 x 10 s", LONG: "40 x 60 s 720p", SUBSET: "200 x 10 s"}

    # Speed rows: (tool, corpus, state, videos/s, seconds, device bytes, note)
    speed = []
    ref = {}  # (corpus, state) -> torchvision 0.27's videos/s

    def add(tool, root, state, secs, nbytes, note="", n=None):
        n = n or count[root]
        speed.append((tool, root, state, n / secs, secs, nbytes, note))
        return n / secs

    # The peers' own files (torch is about a gigabyte) in the page cache
    # first, so that the device bytes of every run are the corpus's.
    for name in ("sid", "trixie"):
        run(peer_cmd(name, ["-c", "import torch, torchvision, av"], []))

    def direct(root):
        """The corpus as it is (warm, or cold at the throttled device)."""
        return contextlib.nullcontext(root)

    def tv27(root, state, cold, serve, where):
        """torchvision 0.27's precompute of root as serve(root) presents it,
        the better of num_workers 0 and 2: the reference of its rows."""
        log("torchvision 0.27 precompute, %s, %s (num_workers 0 and 2)" % (label[root], where))
        best = None
        for w in (0, 2):
            with serve(root) as path:
                out, _, nb = disk.measure(peer_cmd("sid", ["/bench/tv_precompute.py", path, str(w)], [path]), cold, [root])
            r = last_json(out)
            if best is None or r["seconds"] < best[0]["seconds"]:
                best = (r, nb, w)
        r, nb, w = best
        ref[root, state] = add("torchvision %s precompute (torch %s, the better of num_workers 0 and 2)" % (r["torchvision"], r["torch"]),
                               root, state, r["seconds"], nb, "num_workers=%d was faster" % w)

    def vidcache_builds(root, state, cold, serve, where, tmp):
        """vidcache build for both targets, each into a fresh index."""
        for name, args in (("vidcache build (default: torchvision target)", []),
                           ("vidcache build --target torchvision-pyav", ["--target", "torchvision-pyav"])):
            log("%s, %s, %s" % (name, label[root], where))
            home = tempfile.mkdtemp(dir=tmp)
            with serve(root) as path:
                out, _, nb = disk.measure(vidcache_cmd(path, *args), cold, [root], env={"VIDCACHE_HOME": home})
            b = json.loads(out)
            add(name, root, state, b["seconds"], nb, "%d native, %d by FFmpeg; own count: %.2f%% of the bytes" % (
                b["native"], b["ffmpeg"], 100.0 * b["bytes_read"] / max(1, b["bytes_probed"])))

    def floor(root, state, cold, serve, where, note):
        """The bare mp4ff parse of the same files."""
        log("floor: bare mp4ff parse, %s, %s" % (label[root], where))
        with serve(root) as path:
            out, _, nb = disk.measure([FLOOR_BIN, "-jobs", str(JOBS), path], cold, [root])
        r = last_json(out)
        add("floor: bare mp4ff v0.56.0 box decode (lazy mdat) + stts/ctts walk, %d at a time" % JOBS, root, state, r["seconds"], nb, note)

    with tempfile.TemporaryDirectory() as tmp:
        for root in (CORPUS, LONG):
            for state in ("warm", "cold"):
                cold = state == "cold"
                tv27(root, state, cold, direct, state)
                vidcache_builds(root, state, cold, direct, state, tmp)
                floor(root, state, cold, direct, state, "no index, no cache: the cost of reading the answer out of the moov")
        # The high-latency store: torchvision 0.27 and vidcache on one
        # FUSE mount that adds 2 ms to every read.
        where = "%s store" % SLOW_DELAY
        tv27(CORPUS, "slow", False, SlowStore, where)
        vidcache_builds(CORPUS, "slow", False, SlowStore, where, tmp)
        floor(CORPUS, "slow", False, SlowStore, where, "")
        for state in ("warm", "cold"):
            cold = state == "cold"
            log("torchvision 0.21 precompute, 200 videos, %s, num_workers=2" % state)
            out, _, nb = disk.measure(peer_cmd("trixie", ["/bench/tv_precompute.py", SUBSET, "2"], [SUBSET]), cold, [SUBSET])
            r = last_json(out)
            tv21 = add("torchvision %s precompute (torch %s, PyAV decode, num_workers=2)" % (r["torchvision"], r["torch"]), SUBSET, state, r["seconds"], nb)
            ref[SUBSET, state + "-0.21"] = tv21
            log("PyAV demux-only loop, 200 videos, %s" % state)
            out, _, nb = disk.measure(peer_cmd("trixie", ["/bench/pyav_demux.py", SUBSET], [SUBSET]), cold, [SUBSET])
            r = last_json(out)
            add("PyAV %s demux-only loop (1 core)" % r["av"], SUBSET, state, r["seconds"], nb, "floor for a Python tool")
            for name, args in (("vidcache build --target torchvision-pyav", ["--target", "torchvision-pyav"]),
                               ("vidcache build --target torchvision-pyav --mode exact", ["--target", "torchvision-pyav", "--mode", "exact"])):
                log("%s, 200 videos, %s" % (name, state))
                home = tempfile.mkdtemp(dir=tmp)
                out, _, nb = disk.measure(vidcache_cmd(SUBSET, *args), cold, [SUBSET], env={"VIDCACHE_HOME": home})
                b = json.loads(out)
                add(name, SUBSET, state, b["seconds"], nb)

        # Incremental runs: each the median of three (no-change: re-runs;
        # clip options: three new configurations, each a cache rewrite with
        # zero probing).
        other = []  # (what, videos/s, seconds, MB, note)

        def incremental(root, home, n):
            nochange = statistics.median(build(root, home)["seconds"] for _ in range(3))
            rs = [build(root, home, "--frames-per-clip", str(f), "--frame-rate", "15") for f in (8, 12, 20)]
            if any(r["probed"] or not r["written"] for r in rs):
                raise SystemExit("bench: a clip-option-only change probed videos or left the cache unwritten")
            other.append(("no-change re-run (%s videos)" % format(n, ","), n / nochange, nochange, None, "median of 3, probed 0"))
            clip = statistics.median(r["seconds"] for r in rs)
            other.append(("clip-option-only change (%s videos)" % format(n, ","), n / clip, clip, None, "median of 3, probed 0, cache rewritten"))

        log("re-runs and clip-option changes, 2,000 and 20,000 videos")
        h = os.path.join(tmp, "inc2k")
        build(CORPUS, h)
        incremental(CORPUS, h, 2000)
        h = os.path.join(tmp, "inc20k")
        build(TREE20K, h)
        incremental(TREE20K, h, 20000)
        log("peak RSS, 1,000 and 20,000 videos")
        rss1 = statistics.median(build_rss(TREE1K, os.path.join(tmp, "r1-%d" % i)) for i in range(3))
        rss20 = statistics.median(build_rss(TREE20K, os.path.join(tmp, "r20-%d" % i)) for i in range(3))
        other.append(("peak RSS, fresh build of 1,000 videos", None, None, rss1, "median of 3"))
        other.append(("peak RSS, fresh build of 20,000 videos", None, None, rss20, "median of 3; %.2f x the 1,000-video RSS" % (rss20 / rss1)))

    log("240,000-video synthetic cache (300 frames each) and its tree of empty files")
    os.makedirs(SYNTH, exist_ok=True)
    cache = os.path.join(SYNTH, "k240k.pt")
    droot = os.path.join(SYNTH, "data")
    if not os.path.exists(os.path.join(SYNTH, ".complete")):
        shutil.rmtree(droot, ignore_errors=True)
        env = {"PKG_CONFIG_PATH": run([os.path.join(REPO, "scripts", "ffmpeg.sh"), "env"]).strip(), "PKG_CONFIG": "pkg-config --static", "CGO_ENABLED": "1"}
        subprocess.run(["go", "run", "./bench/synth", "-root", droot, "-out", cache, "-tree"], cwd=REPO, check=True, env=dict(os.environ, **env))
        open(os.path.join(SYNTH, ".complete"), "w").close()
    mb = os.path.getsize(cache) / 2**20
    for name, ref_pickle in (("trixie", "reference-dataset.pt"), ("sid", "reference-dataset-sid.pt")):
        ld = peer(name, ["/bench/load_bench.py", cache, droot, os.path.join(SYNTH, ref_pickle)], [SYNTH])
        tv = "torch %s" % ld.get("torch", "?")
        other.append(("%s: torch.load(weights_only=True), 240k-video cache" % tv, None, ld["load"], mb, "%d videos, 72M frames" % ld["videos"]))
        other.append(("%s: torch.load(weights_only=True, mmap=True)" % tv, None, ld["load_mmap"], None, ""))
        other.append(("%s: dataset ready: load + Kinetics(_precomputed_metadata=...)" % tv, None, ld["dataset_ready"], None,
                      "%.2f x the reference pickle" % (ld["dataset_ready"] / ld["reference_load"])))
        other.append(("%s: reference train.py pickle, torch.load(weights_only=False)" % tv, None, ld["reference_load"], None, "needs weights_only=False"))

    with open(os.path.join(DEPS, "bench-last.json"), "w") as f:  # the raw rows, should rendering fail
        json.dump({"speed": speed, "other": other, "ref": [[list(k), v] for k, v in ref.items()]}, f)

    def ratio(tool, root, state, rate):
        if root == SUBSET:
            r = ref.get((SUBSET, state + "-0.21"))
            return "%.1f x tv 0.21" % (rate / r) if r else ""
        return "%.1f" % (rate / ref[root, state])

    table = ["| tool | corpus | page cache | videos/s | × torchvision 0.27 | seconds | read from device | share of corpus | note |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    states = {"warm": "warm", "cold": "cold, 100 MB/s", "slow": "FUSE store, +%s a read" % SLOW_DELAY}
    for tool, root, state, rate, secs, nb, note in speed:
        st = states[state]
        table.append("| %s | %s | %s | %s | %s | %.2f | %.1f MB (%.1f KB/video) | %.2f%% | %s |" % (
            tool, label[root], st, "{:,.1f}".format(rate), ratio(tool, root, state, rate), secs, nb / 1e6, nb / 1e3 / count[root],
            100.0 * nb / size[root], note))
    table += ["", "| measurement | videos/s | seconds | MB | note |", "|---|---:|---:|---:|---|"]
    for what, rate, secs, m, note in other:
        table.append("| %s | %s | %s | %s | %s |" % (what, "" if rate is None else "{:,.1f}".format(rate),
                                                   "" if secs is None else "%.3f" % secs, "" if m is None else "%.0f" % m, note))
    # Projections from the measured cold rows: per-video device bytes and
    # CPU-bound warm rate, for a 200 MB/s share.
    proj = ["", "| projection, 200 MB/s share, 2 cores | Kinetics-400 (241,190 videos) | Kinetics-700 (545,317 videos) |", "|---|---:|---:|"]
    for tool, root, state, rate, secs, nb, note in speed:
        if root != CORPUS or state != "cold":
            continue
        warm = next((r for t, ro, s, r, *_ in speed if t == tool and ro == root and s == "warm"), None)
        if warm is None:
            continue
        per_video = nb / count[root]
        def hours(n):
            return max(n / warm, n * per_video / 200e6) / 3600
        proj.append("| %s | %.2f h | %.2f h |" % (tool, hours(241190), hours(545317)))
    text = "\n".join(table + proj)
    print(text)
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("# vidcache benchmark\n\n")
        f.write("Measured by `make bench` on %s, %s, in %.0f minutes.\n\n" % (machine(), time.strftime("%Y-%m-%d"), (time.perf_counter() - t0) / 60))
        f.write("Corpora (every file distinct: remuxes with their own tag, half with the index in front, half at the end): "
                "2,000 ten-second 340x256 H.264 (B-frames) + AAC clips at 24/25/29.97/30 fps in 40 classes (%.0f MB, %.0f KB a clip); "
                "40 sixty-second 1280x720 30 fps clips (%.0f MB); a 200-clip subset for the tools that decode. "
                "torchvision 0.27 runs in the Debian sid peer (torch 2.14, torchcodec), 0.21 and PyAV in the Debian 13 peer (torch 2.6, PyAV 14). "
                "Warm: the corpus read once before the run. Cold: its pages evicted (POSIX_FADV_DONTNEED) and the run's reads throttled to "
                "100 MB/s (blkio cgroup). Read from device: the cgroup's count of bytes read, readahead included. "
                "vidcache builds use --jobs 2 and a fresh index. Ratios are to torchvision 0.27 on the same corpus in the same state, "
                "measured in the same run.\n\n" % (size[CORPUS] / 1e6, size[CORPUS] / 1e3 / count[CORPUS], size[LONG] / 1e6))
        f.write(text + "\n")
    log("done in %.0f s; table in bench/results.md" % (time.perf_counter() - t0))


if __name__ == "__main__":
    main()
