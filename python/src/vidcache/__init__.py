"""vidcache for training jobs: load a vidcache cache safely, and refuse a
cache that would silently give the wrong dataset.

    import vidcache
    meta = vidcache.load(cache_path, root=root, split="train")
    ds = torchvision.datasets.Kinetics(root, frames_per_clip=16, split="train",
                                       _precomputed_metadata=meta)
    vidcache.check(ds)

or, in one step, ``ds = vidcache.Kinetics(root, cache_path, frames_per_clip=16)``.

torch and torchvision are imported only when needed; the package has no
other dependencies. The wheel also carries the vidcache command-line tool
(a static binary) behind the ``vidcache`` console script.
"""

import os
import pickletools
import zipfile

from ._version import __version__

__all__ = [
    "__version__",
    "CacheError",
    "FormatError",
    "TargetMismatch",
    "DatasetMismatch",
    "StaleCache",
    "load",
    "check",
    "Kinetics",
    "required_target",
    "binary",
]

# The cache format versions this package reads (cachefmt.MinFormatVersion
# .. cachefmt.FormatVersion in the Go code).
FORMAT_VERSIONS = (1, 2)

TARGET_TORCHVISION = "torchvision"  # torchvision 0.26 and later (torchcodec)
TARGET_PYAV = "torchvision-pyav"  # torchvision 0.25 and earlier (PyAV)

# Every global a vidcache cache may name (the Go writer uses no other).
_ALLOWED_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch", "LongStorage"),
    ("collections", "OrderedDict"),
}


class CacheError(Exception):
    """A cache that cannot serve this dataset; the message says why and how to fix it."""


class FormatError(CacheError):
    """Not a vidcache cache, or a format version this package does not read."""


class TargetMismatch(CacheError):
    """The cache was built for the other generation of torchvision."""


class DatasetMismatch(CacheError):
    """The cache was built for another dataset root or split."""


class StaleCache(CacheError):
    """The dataset on disk no longer holds the videos the cache lists."""


def _major_minor(version):
    """(major, minor) of a version string such as "0.27.0+debian" or "0.14.1a0"."""
    return tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in version.split("+")[0].split(".")[:2])


def _tv_version():
    import torchvision

    return _major_minor(torchvision.__version__), torchvision.__version__


def required_target(torchvision_version=None):
    """The target a cache needs for the installed (or the given) torchvision."""
    if torchvision_version is None:
        v, _ = _tv_version()
    else:
        v = _major_minor(torchvision_version)
    return TARGET_TORCHVISION if v >= (0, 26) else TARGET_PYAV


def _build_hint(root, split, target):
    root = root if root is not None else "ROOT"
    cmd = "vidcache build %s" % _quote(root)
    if split not in (None, "train"):
        cmd += " --split %s" % _quote(split)
    if target == TARGET_PYAV:
        cmd += " --target torchvision-pyav"
    return cmd


def _quote(s):
    s = str(s)
    if s and all(c.isalnum() or c in "/._-+=:," for c in s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def _audit(path):
    """Check, without unpickling, that the file is a torch zip file whose
    pickle names only the globals a vidcache cache uses (for torch 1.13,
    whose weights-only loader cannot read the frame rates)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.lower().endswith("/data.pkl") or n.lower() == "data.pkl"]
            if len(names) != 1:
                raise FormatError("%s: not a vidcache cache (%d pickles in the zip)" % (path, len(names)))
            data = z.read(names[0])
    except zipfile.BadZipFile as e:
        raise FormatError("%s: not a vidcache cache (not a torch zip file: %s)" % (path, e)) from None
    strings = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"):
            strings.append(arg)
        elif op.name == "GLOBAL":
            mod, name = arg.split(" ", 1)
            if (mod, name) not in _ALLOWED_GLOBALS:
                raise FormatError("%s: names the global %s.%s, which no vidcache cache does; not loading it" % (path, mod, name))
        elif op.name in ("STACK_GLOBAL", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4"):
            raise FormatError("%s: uses the pickle opcode %s, which no vidcache cache does; not loading it" % (path, op.name))


def _torch_load(path):
    import torch

    major = int(torch.__version__.split(".")[0])
    if major >= 2:
        return torch.load(path, map_location="cpu", weights_only=True)
    # torch 1.13's weights-only loader rejects every Python float; the file
    # was checked to hold nothing but vidcache's own globals instead.
    _audit(path)
    return torch.load(path, map_location="cpu")


def load(path, *, root=None, split=None):
    """Load a vidcache cache as the dict for Kinetics(..., _precomputed_metadata=...).

    It is loaded with torch.load(weights_only=True) (on torch 1.13, after
    checking the pickle names only vidcache's own globals), then checked:
    the format version; that the cache's target suits the installed
    torchvision (0.26+ needs the default target, older ones
    torchvision-pyav); and, when given, that root and split are the ones the
    cache was built for (its root is the --root-as prefix when one was
    given). Each refusal is a CacheError subclass with a one-line cause and
    the command that fixes it.
    """
    path = os.fspath(path)
    try:
        meta = _torch_load(path)
    except CacheError:
        raise
    except FileNotFoundError:
        raise FormatError("%s: no such cache file; build it with: %s" % (path, _build_hint(root, split, None))) from None
    except Exception as e:
        raise FormatError("%s: not a loadable vidcache cache: %s" % (path, str(e).splitlines()[0] if str(e) else type(e).__name__)) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("vidcache"), dict):
        raise FormatError("%s: not a vidcache cache (no 'vidcache' entry); convert a torchvision cache with: vidcache import %s" % (path, _quote(path)))
    info = meta["vidcache"]
    fv = info.get("format_version")
    if fv not in FORMAT_VERSIONS:
        raise FormatError("%s: cache format version %r, this vidcache package (%s) reads %s; upgrade it: pip install -U vidcache"
                          % (path, fv, __version__, "-".join(map(str, (FORMAT_VERSIONS[0], FORMAT_VERSIONS[-1])))))
    target = info.get("target", TARGET_PYAV)
    need = required_target()
    if target != need:
        _, tv = _tv_version()
        raise TargetMismatch("%s: built for --target %s, but torchvision %s needs --target %s (%s); rebuild with: %s"
                             % (path, target, tv, need,
                                "frame indices from torchcodec" if need == TARGET_TORCHVISION else "PyAV timestamps",
                                _build_hint(root if root is not None else info.get("root"), info.get("split"), need)))
    if root is not None:
        want = os.path.normpath(os.path.abspath(os.fspath(root)))
        have = os.path.normpath(info.get("root", ""))
        if want != have:
            raise DatasetMismatch("%s: built for the dataset root %s, not %s (paths in the cache are absolute); build one for it with: %s"
                                  % (path, have, want, _build_hint(want, split if split is not None else info.get("split"), target)))
    if split is not None and split != info.get("split"):
        raise DatasetMismatch("%s: built for split %r, not %r; build one for it with: %s"
                              % (path, info.get("split"), split, _build_hint(root if root is not None else info.get("root"), split, target)))
    return meta


def check(dataset, *, examples=3):
    """Raise StaleCache unless the dataset's own walk of its folder (its
    samples) lists exactly the videos its clips come from (the cache's
    video_paths), in the same order.

    Kinetics takes video_paths from _precomputed_metadata but labels from a
    fresh walk of the folder: after videos are added or removed, a stale
    cache loads without a word and videos get another class's label. This
    compares the two lists, which Kinetics has already built, so it costs
    nothing measurable.
    """
    fresh = [p for p, _ in dataset.samples]
    cached = list(dataset.video_clips.video_paths)
    if fresh == cached:
        return dataset
    fs, cs = set(fresh), set(cached)
    added = [p for p in fresh if p not in cs]
    removed = [p for p in cached if p not in fs]
    parts = []
    if added:
        parts.append("%d added (e.g. %s)" % (len(added), ", ".join(added[:examples])))
    if removed:
        parts.append("%d removed (e.g. %s)" % (len(removed), ", ".join(removed[:examples])))
    if not parts:
        parts.append("the same %d videos in another order" % len(fresh))
    root = getattr(dataset, "root", None)
    split = getattr(dataset, "split", None)
    raise StaleCache("the cache is stale for %s: %s since it was built; labels would not match the videos. Rebuild it with: %s"
                     % (root or "this dataset", "; ".join(parts), _build_hint(root, split, required_target())))


def Kinetics(root, cache, *args, split="train", **kwargs):
    """torchvision.datasets.Kinetics built from a vidcache cache: load() with
    root and split, then check() the result."""
    from torchvision.datasets import Kinetics as TVKinetics

    meta = load(cache, root=root, split=split)
    ds = TVKinetics(root, *args, split=split, _precomputed_metadata=meta, **kwargs)
    return check(ds)


def binary():
    """The path of the vidcache executable shipped in this package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "vidcache")
