"""Tests of the installed vidcache wheel, run inside a real torchvision peer
(scripts/wheel-test.sh installs the wheel into a fresh venv there).

VIDCACHE_TEST_DATA names a dataset tree with train and val splits on which
this torchvision's own Kinetics precompute succeeds (no unreadable files).
Every guard is tested both ways: it fires on its case with the promised
message, and never on a fresh cache.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

warnings.filterwarnings("ignore")

import torch
import torchvision
from torchvision.datasets import Kinetics

import vidcache

DATA = os.environ["VIDCACHE_TEST_DATA"]
TARGET = vidcache.required_target()
OTHER = vidcache.TARGET_PYAV if TARGET == vidcache.TARGET_TORCHVISION else vidcache.TARGET_TORCHVISION
SCRIPT = os.path.join(os.path.dirname(sys.executable), "vidcache")


def cli(*args, home):
    """The console script the wheel installed (not any other vidcache)."""
    env = dict(os.environ, VIDCACHE_HOME=home)
    return subprocess.run([SCRIPT, *args], env=env, check=True, capture_output=True, text=True)


class WheelTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.home = os.path.join(self.tmp, "home")
        self.root = os.path.join(self.tmp, "k400")
        shutil.copytree(DATA, self.root, symlinks=True)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def build(self, *args, root=None, target=TARGET):
        out = cli("build", root or self.root, "--target", target, "--json", *args, home=self.home)
        return json.loads(out.stdout)

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
        train = os.path.join(self.root, "train")
        videos = sorted(os.path.join(d, f) for d, _, fs in os.walk(train, followlinks=True) for f in fs
                        if f.lower().endswith((".mp4", ".avi")) and not os.path.islink(os.path.join(d, f)))
        for i in range(5):
            src = videos[i % len(videos)]
            shutil.copy(src, os.path.join(os.path.dirname(src), "added-%d.mp4" % i))
        removed = [p for p in videos if "/extra/" not in os.path.realpath(p)][-2:]
        for p in removed:
            os.remove(p)
        with self.assertRaises(vidcache.StaleCache) as cm:
            vidcache.Kinetics(self.root, cache, frames_per_clip=4, num_workers=0)
        msg = str(cm.exception)
        self.assertIn("5 added", msg)
        self.assertIn("2 removed", msg)
        self.assertIn("vidcache build", msg)
        self.assertEqual(len(msg.splitlines()), 1)

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


if __name__ == "__main__":
    unittest.main()
