"""The torchvision reference-script adoption, end to end, without upstream's
files: examples/torchvision-reference/run.sh runs the stand-in reference
script in python/tests/reference with train.patch applied (its cache branch
as the patch writes it: vidcache.Kinetics with the script's
KineticsWithVideoId), on a Kinetics-style tree with a corrupt video in each
split, against the installed wheel.

scripts/wheel-test.sh runs this in the torch 2.14 / torchvision 0.27 peer:
VIDCACHE_REFERENCE_DIR names python/tests/reference with the patch applied
(`patch -p1 --fuzz=0`, so its context lines must match exactly), and
VIDCACHE_TEST_DATA a tree on which torchvision's own precompute succeeds.
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

import vidcache

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_SH = os.path.join(HERE, "..", "..", "examples", "torchvision-reference", "run.sh")
PATCH = os.path.join(HERE, "..", "..", "examples", "torchvision-reference", "train.patch")
REFERENCE = os.environ.get("VIDCACHE_REFERENCE_DIR")
DATA = os.environ.get("VIDCACHE_TEST_DATA")
VIDEOS = (".mp4", ".avi")
# Train options for a quick CPU run: 4-frame clips at 5 fps, one clip a video.
OPTS = ["--clip-len", "4", "--frame-rate", "5", "--clips-per-video", "1", "--batch-size", "4", "--workers", "1",
        "--lr", "0.01"]


class ReferenceScriptTest(unittest.TestCase):
    def setUp(self):
        if not REFERENCE or not DATA:
            self.fail("VIDCACHE_REFERENCE_DIR and VIDCACHE_TEST_DATA must be set (scripts/wheel-test.sh sets them)")
        self.tmp = tempfile.mkdtemp()
        self.ref = os.path.join(self.tmp, "ref")
        shutil.copytree(REFERENCE, self.ref)
        self.data = os.path.join(self.tmp, "data")
        shutil.copytree(DATA, self.data, symlinks=True)
        train = os.path.join(self.data, "train")
        # val: one video of every train class (same classes, same labels).
        shutil.rmtree(os.path.join(self.data, "val"), ignore_errors=True)
        for cls in sorted(e.name for e in os.scandir(train) if e.is_dir()):
            first = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(train, cls), followlinks=True)
                           for f in fs if f.lower().endswith(VIDEOS))[0]
            os.makedirs(os.path.join(self.data, "val", cls))
            shutil.copy(first, os.path.join(self.data, "val", cls, "v-" + os.path.basename(first)))
        # A corrupt video in each split: torchvision 0.26+ raises on it.
        self.corrupt = {"train": os.path.join(train, "juggling", "corrupt.mp4"),
                        "val": os.path.join(self.data, "val", "juggling", "corrupt.mp4")}
        for p in self.corrupt.values():
            with open(p, "wb") as f:
                f.write(b"this is not a video\n" * 4)
        self.env = dict(os.environ, PYTHON=sys.executable, VIDCACHE_HOME=os.path.join(self.tmp, "home"),
                        PYTHONWARNINGS="ignore")
        self.env.pop("VIDCACHE", None)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_sh(self, *args, ref=None, check=True):
        """bash run.sh REF data/ [args...] from the temporary folder: the data
        path relative, with a trailing slash, as users type it."""
        cmd = ["bash", RUN_SH, ref or self.ref, "data/", *args]
        p = subprocess.run(cmd, cwd=self.tmp, env=self.env, capture_output=True, text=True)
        if check and p.returncode != 0:
            self.fail("run.sh %s: exit %d\nstdout:\n%s\nstderr:\n%s" % (args, p.returncode, p.stdout[-3000:], p.stderr[-5000:]))
        return p

    def summary(self, out):
        with open(os.path.join(self.tmp, out, "summary.json")) as f:
            return json.load(f)

    def caches(self, stderr):
        got = {}
        for line in stderr.splitlines():
            for split in ("train", "val"):
                if line.startswith("run.sh: %s cache " % split):
                    got[split] = line.split(" cache ", 1)[1]
        self.assertEqual(set(got), {"train", "val"}, stderr)
        return got

    def test_patch_is_applied(self):
        with open(os.path.join(self.ref, "train.py")) as f:
            src = f.read()
        with open(PATCH) as f:
            added = [l[1:] for l in f.read().splitlines() if l.startswith("+") and not l.startswith("+++")]
        for line in added:
            self.assertIn(line, src)
        self.assertIn("dataset_class=datasets.KineticsWithVideoId", src)

    def test_upstream_path_fails_on_the_corrupt_video(self):
        # Without the caches the patched script does what upstream does:
        # torchvision 0.26+ computes the metadata itself and raises on the
        # corrupt file (0.25 and earlier record it and go on).
        if vidcache.required_target() != vidcache.TARGET_TORCHVISION:
            self.skipTest("torchvision before 0.26 does not raise on unreadable videos")
        p = subprocess.run([sys.executable, os.path.join(self.ref, "train.py"), "--data-path", "data", "--epochs", "0",
                            "--output-dir", "out0", *OPTS], cwd=self.tmp, env=self.env, capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("Computing dataset_train with torchvision", p.stdout)
        self.assertIn("Invalid data found when processing input", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out0", "summary.json")))

    def test_run_sh(self):
        # 1. First run: both caches built, the corrupt videos recorded, one
        # epoch trained and evaluated through the vidcache branch.
        p = self.run_sh(*OPTS, "--epochs", "1", "--output-dir", "out1")
        self.assertIn("Loading dataset_train from the vidcache cache", p.stdout)
        self.assertIn("Loading dataset_test from the vidcache cache", p.stdout)
        self.assertNotIn("Computing dataset_", p.stdout)
        self.assertEqual(p.stderr.count("vidcache: built "), 2, p.stderr)
        self.assertNotIn("rebuilt", p.stderr)
        for path in self.corrupt.values():
            self.assertIn("  failed %s: open_failed" % path, p.stderr)
        caches = self.caches(p.stderr)
        for split, cache in caches.items():
            # Built for the clip options passed on to train.py, the target
            # this torchvision needs.
            tag = "-tv-" if vidcache.required_target() == vidcache.TARGET_TORCHVISION else "-pyav-fast-"
            self.assertIn("-%s-f4-s1-r5%s" % (split, tag), os.path.basename(cache))
        s = self.summary("out1")
        for split, transform in (("train", "VideoClassificationPresetTrain"), ("val", "VideoClassificationPresetEval")):
            d = s[split]
            self.assertEqual(d["class"], "KineticsWithVideoId")
            self.assertEqual(d["transform"], transform)
            self.assertEqual(d["root"], "data/")
            self.assertEqual(d["classes"], s["train"]["classes"])
            # The folder's videos, in the cache's order (the cache's paths absolute).
            self.assertEqual(len(d["samples"]), len(d["video_paths"]))
            for (sample, _), cached in zip(d["samples"], d["video_paths"]):
                self.assertTrue(os.path.isabs(cached))
                self.assertEqual(os.path.join(self.tmp, os.path.normpath(sample)), cached)
            rel = [os.path.relpath(os.path.join(self.tmp, p), os.path.join(self.tmp, "data", split)) for p, _ in d["samples"]]
            corrupt = rel.index(os.path.relpath(self.corrupt[split], os.path.join(self.data, split)))
            self.assertEqual(d["clips_per_video"][corrupt], 0)
            with_clips = [i for i, n in enumerate(d["clips_per_video"]) if n > 0]
            self.assertGreaterEqual(len(with_clips), len(rel) // 2)
            # Every item: the clip's video index, and that video's label; one
            # clip from each video that has clips.
            seen = s["seen"][split]
            self.assertEqual(sorted(i for i, _, _ in seen), with_clips)
            for idx, label, shape in seen:
                self.assertEqual(label, d["samples"][idx][1])
                self.assertEqual(d["classes"][label], rel[idx].split(os.sep)[0])
                self.assertEqual(shape, [3, 4, 32, 32])
        self.assertEqual(s["videos_evaluated"], sum(n > 0 for n in s["val"]["clips_per_video"]))
        self.assertTrue(s["losses"] and all(l == l and l < 100 for l in s["losses"]), s["losses"])
        ckpt = torch.load(os.path.join(self.tmp, "out1", "checkpoint.pth"), weights_only=True)
        self.assertEqual(ckpt["epoch"], 0)

        # 2. Nothing changed: the caches are fresh, path --ensure says nothing.
        p = self.run_sh(*OPTS, "--epochs", "0", "--output-dir", "out2")
        self.assertNotIn("vidcache: ", p.stderr)
        self.assertEqual(self.caches(p.stderr), caches)

        # 3. A video added to train: its cache rebuilt, one video probed; the
        # job sees it (the stale cache would have been refused).
        src = os.path.join(self.data, "train", "abseiling", "h264-25fps.mp4")
        shutil.copy(src, os.path.join(self.data, "train", "abseiling", "added.mp4"))
        p = self.run_sh(*OPTS, "--epochs", "0", "--output-dir", "out3")
        self.assertEqual(p.stderr.count("vidcache: rebuilt %s: 1 new, 0 changed, 0 removed" % caches["train"]), 1, p.stderr)
        self.assertIn(": 1 probed, ", p.stderr)
        self.assertNotIn(caches["val"] + ":", p.stderr)
        s3 = self.summary("out3")
        self.assertEqual(len(s3["train"]["samples"]), len(s["train"]["samples"]) + 1)
        self.assertIn(["data/train/abseiling/added.mp4", s3["train"]["classes"].index("abseiling")], s3["train"]["samples"])

    def test_run_sh_refuses(self):
        unpatched = os.path.join(self.tmp, "unpatched")
        os.makedirs(unpatched)
        with open(os.path.join(unpatched, "train.py"), "w") as f:
            f.write("raise SystemExit('must not run')\n")
        p = self.run_sh(ref=unpatched, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("apply the patch first", p.stderr)
        self.assertIn("patch -p1 <", p.stderr)
        for opt in (["--data-path", "elsewhere"], ["--data-path=elsewhere"], ["--vidcache-train", "x.pt"]):
            p = self.run_sh(*opt, check=False)
            self.assertEqual(p.returncode, 2, opt)
            self.assertIn("run.sh passes --data-path and the caches itself", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "home")), "nothing is built when run.sh refuses")


if __name__ == "__main__":
    unittest.main()
