"""Tests of the installed vidcache wheel, run inside a real torchvision peer
(scripts/wheel-test.sh installs the wheel into a fresh venv there).

VIDCACHE_TEST_DATA names a dataset tree with train and val splits on which
this torchvision's own Kinetics precompute succeeds (no unreadable files).
Every guard is tested both ways: it fires on its case with the promised
message, and never on a fresh cache.
"""
import io
import json
import os
import pickle
import shlex
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import unittest
import warnings
import zipfile
import zlib

warnings.filterwarnings("ignore")

import torch
import torchvision
from torchvision.datasets import Kinetics

import vidcache

DATA = os.environ.get("VIDCACHE_TEST_DATA")  # needed by WheelTest only
# torchvision caches written by the real peers (indexer/testdata/import).
IMPORT_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "indexer", "testdata", "import")
TARGET = vidcache.required_target()
OTHER = vidcache.TARGET_PYAV if TARGET == vidcache.TARGET_TORCHVISION else vidcache.TARGET_TORCHVISION
SCRIPT = os.path.join(os.path.dirname(sys.executable), "vidcache")


def cli(*args, home, cwd=None):
    """The console script the wheel installed (not any other vidcache)."""
    env = dict(os.environ, VIDCACHE_HOME=home)
    return subprocess.run([SCRIPT, *args], env=env, check=True, capture_output=True, text=True, cwd=cwd)


class KineticsWithVideoId(Kinetics):
    """As torchvision's reference train.py defines it: items carry the index
    of the video the clip comes from."""

    def __getitem__(self, idx):
        video, audio, info, video_idx = self.video_clips.get_clip(idx)
        label = self.samples[video_idx][1]
        if self.transform is not None:
            video = self.transform(video)
        return video, audio, label, video_idx


class WheelTest(unittest.TestCase):
    def setUp(self):
        if not DATA:
            self.fail("VIDCACHE_TEST_DATA is not set (scripts/wheel-test.sh sets it)")
        self.tmp = tempfile.mkdtemp()
        self.home = os.path.join(self.tmp, "home")
        self.root = os.path.join(self.tmp, "k400")
        shutil.copytree(DATA, self.root, symlinks=True)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def build(self, *args, root=None, target=TARGET, cwd=None):
        out = cli("build", root or self.root, "--target", target, "--json", *args, home=self.home, cwd=cwd)
        return json.loads(out.stdout)

    def add_and_remove(self):
        """5 videos added and 2 removed in train (the stale case)."""
        train = os.path.join(self.root, "train")
        videos = sorted(os.path.join(d, f) for d, _, fs in os.walk(train, followlinks=True) for f in fs
                        if f.lower().endswith((".mp4", ".avi")) and not os.path.islink(os.path.join(d, f)))
        for i in range(5):
            src = videos[i % len(videos)]
            shutil.copy(src, os.path.join(os.path.dirname(src), "added-%d.mp4" % i))
        for p in [p for p in videos if "/extra/" not in os.path.realpath(p)][-2:]:
            os.remove(p)

    def test_console_script(self):
        self.assertEqual(os.path.realpath(vidcache.binary()).startswith(os.path.realpath(sys.prefix)), True)
        v = cli("version", home=self.home).stdout
        self.assertTrue(v.startswith("vidcache %s " % vidcache.__version__), v)
        res = self.build()
        self.assertEqual(res["target"], TARGET)
        self.assertEqual(res["failed"], 0)
        self.assertTrue(os.path.exists(res["cache"]))

    def test_same_dataset_as_without_vidcache(self):
        cache = self.build("--frames-per-clip", "8")["cache"]
        mine = vidcache.Kinetics(self.root, cache, frames_per_clip=8, num_workers=0, output_format="TCHW")
        theirs = Kinetics(self.root, frames_per_clip=8, split="train", num_workers=0, output_format="TCHW")
        a, b = mine.video_clips, theirs.video_clips
        self.assertEqual(a.video_paths, b.video_paths)
        self.assertEqual([t.tolist() for t in a.video_pts], [t.tolist() for t in b.video_pts])
        self.assertEqual(a.video_fps, b.video_fps)
        self.assertEqual([type(f) for f in a.video_fps], [type(f) for f in b.video_fps])
        self.assertEqual(mine.samples, theirs.samples)
        self.assertEqual(a.cumulative_sizes, b.cumulative_sizes)
        self.assertGreater(a.num_clips(), 0)

    def test_fresh_cache_never_refused(self):
        cache = self.build()["cache"]
        meta = vidcache.load(cache, root=self.root, split="train")
        self.assertEqual(len(meta["video_paths"]), len(meta["video_pts"]))
        ds = Kinetics(self.root, frames_per_clip=4, split="train", num_workers=0, _precomputed_metadata=meta)
        self.assertIs(vidcache.check(ds), ds)
        meta = vidcache.load(cache)  # nothing to compare: only format and target
        self.assertIn("vidcache", meta)

    def test_stale_tree(self):
        cache = self.build()["cache"]
        self.add_and_remove()
        with self.assertRaises(vidcache.StaleCache) as cm:
            vidcache.Kinetics(self.root, cache, frames_per_clip=4, num_workers=0)
        msg = str(cm.exception)
        self.assertIn("5 added", msg)
        self.assertIn("2 removed", msg)
        self.assertIn("vidcache build", msg)
        self.assertEqual(len(msg.splitlines()), 1)

    def test_dataset_class(self):
        # Any Kinetics subclass, e.g. the reference script's KineticsWithVideoId.
        cache = self.build("--frames-per-clip", "4")["cache"]
        ds = vidcache.Kinetics(self.root, cache, frames_per_clip=4, num_workers=0, output_format="TCHW",
                               dataset_class=KineticsWithVideoId)
        self.assertIs(type(ds), KineticsWithVideoId)
        plain = vidcache.Kinetics(self.root, cache, frames_per_clip=4, num_workers=0, output_format="TCHW")
        self.assertIs(type(plain), Kinetics)
        self.assertEqual(ds.samples, plain.samples)
        self.assertEqual(len(ds), len(plain))
        self.assertGreater(len(ds), 0)
        for i in (0, len(ds) // 2, len(ds) - 1):
            video, _, label, video_idx = ds[i]
            self.assertEqual(ds.video_clips.get_clip_location(i)[0], video_idx)
            self.assertEqual(label, ds.samples[video_idx][1])
            self.assertEqual(ds.video_clips.video_paths[video_idx], ds.samples[video_idx][0])
            self.assertTrue(torch.equal(video, plain[i][0]))
        for bad in (dict, "Kinetics", torchvision.datasets.UCF101):
            with self.assertRaises(TypeError) as cm:
                vidcache.Kinetics(self.root, cache, frames_per_clip=4, num_workers=0, dataset_class=bad)
            self.assertIn("dataset_class must be torchvision.datasets.Kinetics or a subclass", str(cm.exception))
        # The guards hold for a subclass too.
        self.add_and_remove()
        with self.assertRaises(vidcache.StaleCache):
            vidcache.Kinetics(self.root, cache, frames_per_clip=4, num_workers=0, dataset_class=KineticsWithVideoId)

    def test_root_spellings(self):
        # A cache built for the absolute root serves the same folder however
        # the job names it: relative, trailing slash, "..", through a symlink;
        # and a cache built from a relative or symlinked root serves the
        # absolute one. (Reported: a relative --data-path raised StaleCache,
        # "41 added, 41 removed", on a fresh cache.)
        link = os.path.join(self.tmp, "link")
        os.symlink(self.root, link)
        cwd = os.getcwd()
        os.chdir(self.tmp)
        try:
            built = {"absolute": self.build()["cache"],
                     "relative": self.build("--out", os.path.join(self.tmp, "rel.pt"), root="k400/", cwd=self.tmp)["cache"],
                     "symlink": self.build("--out", os.path.join(self.tmp, "sym.pt"), root=link)["cache"]}
            spellings = ["k400", "k400/", "./k400/../k400", self.root + "/", "link", "link/", link]
            for how, cache in built.items():
                for root in spellings:
                    with self.subTest(built=how, root=root):
                        meta = vidcache.load(cache, root=root, split="train")
                        ds = Kinetics(root, frames_per_clip=4, split="train", num_workers=0, _precomputed_metadata=meta)
                        self.assertIs(vidcache.check(ds), ds)
                        ds = vidcache.Kinetics(root, cache, frames_per_clip=4, num_workers=0, dataset_class=KineticsWithVideoId)
                        self.assertEqual(len(ds.samples), len(meta["video_paths"]))
            # Another folder is still another dataset, whatever the spelling.
            shutil.copytree(self.root, os.path.join(self.tmp, "copy"), symlinks=True)
            for root in ("copy", "copy/", os.path.join(self.tmp, "copy")):
                with self.subTest(other=root):
                    with self.assertRaises(vidcache.DatasetMismatch) as cm:
                        vidcache.load(built["absolute"], root=root)
                    self.assertIn("not %s" % os.path.join(self.tmp, "copy"), str(cm.exception))
            # Staleness is still caught through a relative root, with counts
            # and a rebuild command that names the absolute root.
            self.add_and_remove()
            with self.assertRaises(vidcache.StaleCache) as cm:
                vidcache.Kinetics("k400/", built["absolute"], frames_per_clip=4, num_workers=0)
            msg = str(cm.exception)
            self.assertIn("5 added", msg)
            self.assertIn("2 removed", msg)
            self.assertIn("vidcache build %s" % self.root, msg)
        finally:
            os.chdir(cwd)

    def test_wrong_split(self):
        cache = self.build()["cache"]
        with self.assertRaises(vidcache.DatasetMismatch) as cm:
            vidcache.load(cache, root=self.root, split="val")
        self.assertIn("split 'train', not 'val'", str(cm.exception))
        self.assertIn("--split val", str(cm.exception))
        with self.assertRaises(vidcache.DatasetMismatch):
            vidcache.Kinetics(self.root, cache, frames_per_clip=4, split="val", num_workers=0)

    def test_wrong_root(self):
        cache = self.build()["cache"]
        other = os.path.join(self.tmp, "elsewhere")
        with self.assertRaises(vidcache.DatasetMismatch) as cm:
            vidcache.load(cache, root=other)
        self.assertIn("not %s" % other, str(cm.exception))
        # --root-as: the cache is for the root it names.
        moved = self.build("--root-as", "/mnt/k400", "--out", os.path.join(self.tmp, "moved.pt"))["cache"]
        vidcache.load(moved, root="/mnt/k400", split="train")
        with self.assertRaises(vidcache.DatasetMismatch):
            vidcache.load(moved, root=self.root)

    def test_wrong_target(self):
        cache = self.build(target=OTHER)["cache"]
        with self.assertRaises(vidcache.TargetMismatch) as cm:
            vidcache.load(cache, root=self.root, split="train")
        msg = str(cm.exception)
        self.assertIn("torchvision %s needs --target %s" % (torchvision.__version__, TARGET), msg)
        if TARGET == vidcache.TARGET_PYAV:
            self.assertIn("--target torchvision-pyav", msg)

    def test_unknown_format_version(self):
        p = os.path.join(self.tmp, "future.pt")
        torch.save({"video_paths": [], "video_pts": [], "video_fps": [], "vidcache": {"format_version": 99, "target": TARGET}}, p)
        with self.assertRaises(vidcache.FormatError) as cm:
            vidcache.load(p)
        self.assertIn("format version 99", str(cm.exception))
        self.assertIn("pip install -U vidcache", str(cm.exception))
        q = os.path.join(self.tmp, "plain.pt")
        torch.save({"weights": torch.arange(3)}, q)
        with self.assertRaises(vidcache.FormatError):
            vidcache.load(q)
        with self.assertRaises(vidcache.FormatError):
            vidcache.load(os.path.join(self.tmp, "missing.pt"))

    def test_refuses_code(self):
        marker = os.path.join(self.tmp, "ran")

        class Evil:
            def __reduce__(self):
                return (os.system, ("touch " + marker,))

        p = os.path.join(self.tmp, "evil.pt")
        torch.save({"video_paths": [], "vidcache": {"format_version": 2}, "x": Evil()}, p)
        with self.assertRaises(vidcache.FormatError):
            vidcache.load(p)
        self.assertFalse(os.path.exists(marker), "loading ran the pickle's code")


# Hostile files, built here byte by byte with the standard library only. Each
# carries a pickle that would create a marker file if anything unpickled it,
# and most are built so that Python's zipfile sees a harmless vidcache-like
# zip while torch.load would read something else (see the torch-load-readers
# notes): what vidcache.load checks must be what torch loads.

def _str(s):
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def _payload_exec(marker):
    """builtins.exec("open(MARKER, 'w').close()"): protocol 2, GLOBAL + REDUCE."""
    return b"\x80\x02cbuiltins\nexec\n" + _str("open(%r, 'w').close()" % marker) + b"\x85R."


def _payload_system(marker):
    """posix.system("touch MARKER")."""
    return b"\x80\x02cposix\nsystem\n" + _str("touch " + shlex.quote(marker)) + b"\x85R."


def _payload_stack_global(marker):
    """builtins.exec through STACK_GLOBAL (protocol 4)."""
    return (b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93" + _str("open(%r, 'w').close()" % marker) + b"\x85R.")


def _payload_nested(marker):
    """A vidcache-looking dict whose 'vidcache' entry is the exec call."""
    return (b"\x80\x02}(" + _str("video_paths") + b"](e" + _str("vidcache") + b"cbuiltins\nexec\n"
            + _str("open(%r, 'w').close(); d = {}" % marker) + b"\x85Ru.")


def _tensor(key, n):
    """_rebuild_tensor_v2(storage key, 0, (n,), (1,), False, OrderedDict()), as vidcache writes it."""
    pid = b"(" + _str("storage") + b"ctorch\nLongStorage\n" + _str(key) + _str("cpu") + b"K" + bytes([n]) + b"tQ"
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"K\x00K" + bytes([n]) + b"\x85K\x01\x85\x89"
            + b"ccollections\nOrderedDict\n)RtR")


def _vidcache_pickle():
    """A benign data.pkl with vidcache's opcodes and globals, a float included
    (BINFLOAT, which torch 1.13's weights-only loader rejects)."""
    return (b"\x80\x02}("
            + _str("video_paths") + b"](" + _str("/data/a.mp4") + b"e"
            + _str("video_pts") + b"](" + _tensor("0", 3) + b"e"
            + _str("video_fps") + b"](G" + struct.pack(">d", 29.97) + b"e"
            + _str("vidcache") + b"}(" + _str("format_version") + b"K\x02" + _str("target") + _str(TARGET) + b"u"
            + b"u.")


def _records(pkl, prefix="vidcache"):
    return [(prefix + "/data.pkl", pkl), (prefix + "/byteorder", b"little"),
            (prefix + "/data/0", struct.pack("<3q", 0, 1, 2)), (prefix + "/version", b"3\n")]


def _local(name, data):
    n = name.encode()
    return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, zlib.crc32(data), len(data), len(data),
                       len(n), 0) + n + data


def _central(name, data, offset):
    n = name.encode()
    return struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, zlib.crc32(data), len(data),
                       len(data), len(n), 0, 0, 0, 0, 0, offset) + n


def _eocd(count, cd_size, cd_offset):
    return struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0)


def _zip(entries):
    """A stored zip of (name, data) in this order, offsets from its first byte."""
    body, cd = b"", b""
    for name, data in entries:
        cd += _central(name, data, len(body))
        body += _local(name, data)
    return body + cd + _eocd(len(entries), len(cd), len(body))


def _two_central_directories(hostile, benign):
    """The end record states the offset of a central directory listing the
    hostile entries (miniz, so torch, reads that one); a second one listing
    the benign entries sits right before the end record (Python's zipfile
    reads size_cd bytes back from it and shifts every offset by the
    difference, so its offsets are stored shifted back)."""
    body, offs_h, offs_b = b"", [], []
    for name, data in hostile:
        offs_h.append(len(body))
        body += _local(name, data)
    body += b"\0" * 1024  # so every shifted benign offset stays positive
    for name, data in benign:
        offs_b.append(len(body))
        body += _local(name, data)
    cd1 = b"".join(_central(n, d, o) for (n, d), o in zip(hostile, offs_h))
    shift = len(cd1)
    cd2 = b"".join(_central(n, d, o - shift) for (n, d), o in zip(benign, offs_b))
    assert len(cd1) == len(cd2) and all(o >= shift for o in offs_b)
    return body + cd1 + cd2 + _eocd(len(hostile), len(cd2), len(body))


class DifferentialBatteryTest(unittest.TestCase):
    """The project's parser-differential battery
    (cachefmt/torchpeer/scripts/differential.py: zips, tars and polyglots
    that torch reads one way and zipfile, tarfile or Go another, each proven
    by the Go tests to run its payload in a real torch): vidcache.load refuses
    every one on this torch, and no payload runs."""

    SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                          "cachefmt", "torchpeer", "scripts", "differential.py")

    def test_refuses_every_differential_file(self):
        if not os.path.exists(self.SCRIPT):
            self.skipTest("not run from the repository")
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run([sys.executable, os.path.basename(self.SCRIPT), "hostile", tmp],
                       cwd=os.path.dirname(self.SCRIPT), check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "differential.json")) as f:
            files = [e for e in json.load(f) if e["kind"] != "bomb"]
        self.assertGreater(len(files), 50)
        cwd = os.getcwd()
        os.chdir(tmp)  # some payloads write a marker relative to where torch.load runs
        self.addCleanup(os.chdir, cwd)
        for e in files:
            with self.subTest(e["name"]):
                with self.assertRaises(vidcache.CacheError):
                    vidcache.load(e["path"])
                for m in (e["marker"], os.path.join("markers", e["name"] + ".ran")):
                    self.assertFalse(os.path.exists(m), "%s: the payload ran" % e["name"])


class HostileFileTest(unittest.TestCase):
    """vidcache.load never unpickles a file it has not found to be laid out
    as a vidcache cache by torch's own reader, and never resolves a global
    other than vidcache's three: every file here is refused with a
    FormatError and its payload never runs."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.marker = os.path.join(self.tmp, "ran")
        self.benign_pkl = _vidcache_pickle()
        self.benign = _zip(_records(self.benign_pkl))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def assertZipfileSeesBenign(self, p):
        """The fixture fools a zipfile-based check: zipfile reads the benign pickle."""
        with zipfile.ZipFile(p) as z:
            self.assertEqual(z.read("vidcache/data.pkl"), self.benign_pkl)

    def assertTorchReads(self, p, record, data):
        """torch's zip reader (miniz) reads the hostile record."""
        with open(p, "rb") as f:
            self.assertEqual(torch._C.PyTorchFileReader(f).get_record(record), data)

    def assertRefused(self, p, *fragments):
        with self.assertRaises(vidcache.FormatError) as cm:
            vidcache.load(p)
        self.assertFalse(os.path.exists(self.marker), "loading %s ran the pickle's code" % p)
        msg = str(cm.exception)
        self.assertEqual(len(msg.splitlines()), 1, msg)
        self.assertNotIn("\x1b", msg)
        for frag in fragments:
            self.assertIn(frag, msg)
        return msg

    def test_benign_fixture_loads(self):
        # The hand-built zip the hostile files imitate is a loadable cache:
        # the allowlist and the layout check let vidcache's own format
        # through, floats included, on every torch.
        meta = vidcache.load(self.write("benign.pt", self.benign))
        self.assertEqual(meta["video_paths"], ["/data/a.mp4"])
        self.assertEqual([t.tolist() for t in meta["video_pts"]], [[0, 1, 2]])
        self.assertEqual(meta["video_fps"], [29.97])
        self.assertEqual(meta["vidcache"], {"format_version": 2, "target": TARGET})
        self.assertEqual(meta["video_pts"][0].dtype, torch.int64)

    def test_a_legacy_pickle_before_a_zip(self):
        magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
        for label, head in [("raw REDUCE pickle", _payload_exec(self.marker)),
                            ("torch's legacy sequence", magic + pickle.dumps(1001, protocol=2)
                             + pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
                             + _payload_system(self.marker))]:
            with self.subTest(label):
                p = self.write("legacy.pt", head + self.benign)
                self.assertZipfileSeesBenign(p)
                self.assertRefused(p, "starts as a pickle", "vidcache import")

    def test_b_tar_before_a_zip(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, data in [("storages", _payload_exec(self.marker)), ("tensors", pickle.dumps(0, protocol=2)),
                               ("pickle", pickle.dumps({}, protocol=2))]:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        p = self.write("tar.pt", buf.getvalue() + self.benign)
        self.assertZipfileSeesBenign(p)
        self.assertRefused(p, "tar archive", "vidcache import")

    def test_c_two_central_directories(self):
        hostile = _records(_payload_exec(self.marker))
        benign = _records(self.benign_pkl)
        # Same names, so both central directories are the same size.
        hostile[0] = (hostile[0][0], _payload_nested(self.marker))
        p = self.write("two-cds.pt", _two_central_directories(hostile, benign))
        self.assertZipfileSeesBenign(p)
        self.assertTorchReads(p, "data.pkl", _payload_nested(self.marker))
        self.assertRefused(p, "builtins.exec")

    def test_d_duplicate_names(self):
        hostile = _payload_exec(self.marker)
        for label, entries in [
            ("same name, hostile first", [("vidcache/data.pkl", hostile)] + _records(self.benign_pkl)),
            ("same name, hostile between", _records(self.benign_pkl)[:1] + [("vidcache/data.pkl", hostile)]
             + _records(self.benign_pkl)),
            ("names differing in case", [("vidcache/DATA.PKL", hostile)] + _records(self.benign_pkl)),
        ]:
            with self.subTest(label):
                p = self.write("dup.pt", _zip(entries))
                self.assertZipfileSeesBenign(p)
                self.assertRefused(p, "cannot tell apart")

    def test_e_constants_pkl(self):
        hostile = _payload_exec(self.marker)
        for label, name in [("constants.pkl", "vidcache/constants.pkl"), ("upper case", "vidcache/CONSTANTS.PKL")]:
            with self.subTest(label):
                entries = _records(hostile) + [(name, hostile)]
                p = self.write("ts.pt", _zip(entries))
                self.assertRefused(p, "constants.pkl", "TorchScript")
        for label, name in [("a second pickle", "vidcache/extra.pkl"), ("a debug pickle", "vidcache/data.debug_pkl"),
                            ("another record", "vidcache/code/x.py")]:
            with self.subTest(label):
                p = self.write("other.pt", _zip(_records(self.benign_pkl) + [(name, hostile)]))
                self.assertRefused(p, repr(name.split("/", 1)[1]))

    def test_f_hostile_globals(self):
        for label, pkl, name in [("builtins.exec", _payload_exec(self.marker), "builtins.exec"),
                                 ("posix.system", _payload_system(self.marker), "posix.system"),
                                 # (torch 2.x's weights-only unpickler stops at its first SHORT_BINUNICODE)
                                 ("STACK_GLOBAL", _payload_stack_global(self.marker), ""),
                                 ("inside a vidcache-looking dict", _payload_nested(self.marker), "builtins.exec")]:
            with self.subTest(label):
                p = self.write("evil.pt", _zip(_records(pkl)))
                self.assertRefused(p, name, "not loading it")

    def test_torchvision_cache_says_import(self):
        for label, pkl, name in [
            ("reference script's dataset", b"\x80\x02cdatasets\nKineticsWithVideoId\n)\x81}b.", "datasets.KineticsWithVideoId"),
            ("VideoClips", b"\x80\x02ctorchvision.datasets.video_utils\nVideoClips\n)\x81}b.",
             "torchvision.datasets.video_utils.VideoClips"),
        ]:
            with self.subTest(label):
                p = self.write("tv.pt", _zip(_records(pkl, prefix="archive")))
                msg = self.assertRefused(p, "torchvision cache", name, "vidcache import %s" % p)
                self.assertNotIn("Weights only", msg)

    def test_real_torchvision_caches_say_import(self):
        # The caches torchvision 0.14, 0.21 and 0.27 really write (the
        # reference script's tuple, zip and legacy; a pickled Kinetics and
        # VideoClips; a metadata dict): each refused in one clean line that
        # names vidcache import with the file, nothing unpickled that runs.
        names = sorted(f for f in os.listdir(IMPORT_FIXTURES) if f.startswith("tv") and f.endswith(".pt"))
        self.assertEqual(len(names), 15, names)
        for name in names:
            with self.subTest(name):
                p = shutil.copy(os.path.join(IMPORT_FIXTURES, name), os.path.join(self.tmp, name))
                msg = self.assertRefused(p, "vidcache import %s" % p)
                self.assertNotIn("Weights only", msg)
                if name.endswith("-legacy.pt"):
                    self.assertIn("starts as a pickle", msg)
                elif name.endswith("-reference-script.pt"):
                    self.assertIn("a torchvision cache (a pickled datasets.KineticsWithVideoId)", msg)
                elif name.endswith("-video-clips.pt"):
                    self.assertIn("a torchvision cache (a pickled torchvision.datasets.video_utils.VideoClips)", msg)
                elif name.endswith("-kinetics.pt"):
                    self.assertIn("a torchvision cache (a pickled torchvision.datasets.kinetics.Kinetics)", msg)
                else:
                    self.assertIn("no 'vidcache' entry", msg)

    def test_not_a_zip(self):
        self.assertRefused(self.write("empty.pt", b""), "it is empty")
        self.assertRefused(self.write("text.pt", b"hello"), "does not start with a zip header")
        # A zip header at the start but no readable zip: torch's reader says why.
        self.assertRefused(self.write("junk.pt", b"PK\x03\x04" + b"\0" * 96 + self.benign), "torch cannot read it")

    def test_restricted_unpickler(self):
        from vidcache import _restricted_pickle as rp

        for pkl in (_payload_exec(self.marker), _payload_system(self.marker), _payload_stack_global(self.marker)):
            with self.assertRaises(rp.RefusedGlobal):
                rp.loads(pkl)
            with self.assertRaises(rp.RefusedGlobal):
                rp.load(io.BytesIO(pkl))
        self.assertFalse(os.path.exists(self.marker))
        self.assertEqual(rp.loads(b"\x80\x02ccollections\nOrderedDict\n)R."), {})


if __name__ == "__main__":
    unittest.main()
