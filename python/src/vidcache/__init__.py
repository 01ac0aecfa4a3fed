"""vidcache for training jobs: load a vidcache cache safely, and refuse a
cache that would silently give the wrong dataset.

    import vidcache
    meta = vidcache.load(cache_path, root=root, split="train")
    ds = torchvision.datasets.Kinetics(root, frames_per_clip=16, split="train",
                                       _precomputed_metadata=meta)
    vidcache.check(ds)

or, in one step, ``ds = vidcache.Kinetics(root, cache_path, frames_per_clip=16)``
(``dataset_class=`` builds a Kinetics subclass instead, e.g. the reference
train.py's KineticsWithVideoId). The root may be given relative, with a
trailing slash or through a symlink: roots and video paths are compared
absolute and normalized, and where they point.

torch and torchvision are imported only when needed; the package has no
other dependencies. The wheel also carries the vidcache command-line tool
(a static binary) behind the ``vidcache`` console script.
"""

import os
import re

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


def _abs(p):
    """p absolute and normalized, as vidcache stores a dataset root (Go's
    filepath.Abs): relative to the working directory, no trailing slash, no
    "." or ".." components. Symlinks are kept (see _same_place)."""
    return os.path.normpath(os.path.abspath(os.fspath(p)))


def _same_place(a, b):
    """Whether two absolute, normalized paths name the same place: equal, or
    equal once symlinks are resolved (a root reached through a symlink, or a
    cache built through one)."""
    return a == b or os.path.realpath(a) == os.path.realpath(b)


class _Canonical:
    """Maps a video path to a comparable form: absolute and normalized, its
    folder with symlinks resolved (each folder resolved once), the file name
    as it is. Kinetics lists videos under the root it was given (relative,
    with a trailing slash, through a symlink), the cache under the absolute
    root it was built for."""

    def __init__(self):
        self._dirs = {}

    def __call__(self, p):
        d, name = os.path.split(_abs(p))
        real = self._dirs.get(d)
        if real is None:
            real = self._dirs[d] = os.path.realpath(d)
        return os.path.join(real, name)


_ZIP_MAGIC = b"PK\x03\x04"

# The records a vidcache cache holds (cachefmt/doc.go: data.pkl, byteorder,
# data/<n>, version, under one folder that torch's reader strips), plus the
# metadata records torch.save itself writes (2.x: .data/serialization_id,
# .format_version, .storage_alignment; .data/version), none of them a pickle,
# so that a torch.save'd dict gets to the format checks below.
_RECORDS = {"data.pkl", "byteorder", "version", ".data/version", ".data/serialization_id",
            ".format_version", ".storage_alignment"}
_STORAGE_RECORD = re.compile(r"data/[0-9]+", re.ASCII)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# torch 2.x weights-only refusals name the global (_weights_only_unpickler):
# "Unsupported global: GLOBAL mod.name was not an allowed global ..." (2.6,
# 2.14; 2.14 writes builtins.name as plain "name"), "Trying to load
# unsupported GLOBAL mod.name whose module mod is blocked", "Unsupported
# class mod.name" (2.0-2.3).
_WO_GLOBAL = re.compile(r"(?:\bGLOBAL|Unsupported class) ([A-Za-z_][\w.]*)")


def _clean(msg):
    """One line of an exception's message: terminal colour codes stripped,
    torch's WeightsUnpickler cause preferred over its preamble, C++ stack
    lines ("Exception raised from ...", "frame #n") left out."""
    lines = [l.strip() for l in _ANSI.sub("", msg).splitlines()]
    lines = [l for l in lines if l and not l.startswith(("Exception raised from", "frame #"))]
    for i, l in enumerate(lines):
        if "WeightsUnpickler error:" in l:
            cause = l.split("WeightsUnpickler error:", 1)[1].strip()
            if cause or i + 1 == len(lines):
                return cause
            return lines[i + 1]  # 2.14: the cause on a line of its own
    # torch 2.14 appends this to miniz errors; the cause is before it.
    return lines[0].split(" This is an internal miniz error.", 1)[0] if lines else ""


def _message(e):
    return _clean(str(e)) or type(e).__name__


def _refused_global(path, qualified):
    """The refusal of a pickle naming a global no vidcache cache names."""
    mod = qualified.rsplit(".", 1)[0]
    top = mod.split(".")[0]
    if top in ("torchvision", "datasets") or qualified.rsplit(".", 1)[-1] in ("VideoClips", "KineticsWithVideoId", "Kinetics"):
        return FormatError("%s: a torchvision cache (a pickled %s), not a vidcache cache; not loading it (unpickling it "
                           "would run code). Convert it without running anything with: vidcache import %s"
                           % (path, qualified, _quote(path)))
    return FormatError("%s: names the global %s, which no vidcache cache does; not loading it. `vidcache audit %s` "
                       "lists what it imports; a torchvision cache converts with: vidcache import %s"
                       % (path, qualified, _quote(path), _quote(path)))


def _what_is(head):
    """What a file that does not start as a zip seems to be, from its first bytes."""
    if not head:
        return "it is empty"
    if head[:1] == b"\x80":
        return "it starts as a pickle (a legacy, pre-zip torch.save file?)"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "it is a tar archive (a legacy torch.save file?)"
    return "it does not start with a zip header"


def _check_container(path, f, torch):
    """Refuse, before anything is unpickled, a file that is not laid out as
    a vidcache cache, reading it as torch.load does: the first 4 bytes
    (torch's _is_zipfile), then the record list from torch's own zip reader
    (torch._C.PyTorchFileReader on the open file, as _open_zipfile_reader
    and _is_torchscript_zip do). Returns that reader, the file rewound."""
    f.seek(0)
    head = f.read(512)
    if head[:4] != _ZIP_MAGIC:
        raise FormatError("%s: not a vidcache cache (every one is a zip file): %s; not loading it. "
                          "If it is a torchvision cache, convert it without running it with: vidcache import %s"
                          % (path, _what_is(head), _quote(path)))
    f.seek(0)
    try:
        reader = torch._C.PyTorchFileReader(f)
        records = reader.get_all_records()
    except Exception as e:
        raise FormatError("%s: not a vidcache cache (torch cannot read it as a zip file: %s)" % (path, _message(e))) from None
    seen = {}
    for name in records:
        low = name.lower()
        if low in seen:
            raise FormatError("%s: not a vidcache cache: the zip holds %r and %r, which torch's reader cannot tell apart; "
                              "not loading it" % (path, seen[low], name))
        seen[low] = name
        if low == "constants.pkl":
            raise FormatError("%s: not a vidcache cache: it holds constants.pkl, so it is a TorchScript archive "
                              "(torch.load would hand it to torch.jit.load); not loading it" % (path,))
    for name in records:
        if name not in _RECORDS and not _STORAGE_RECORD.fullmatch(name):
            raise FormatError("%s: not a vidcache cache: the zip holds the record %r, which no vidcache cache does; "
                              "not loading it" % (path, name))
    if "data.pkl" not in records:
        raise FormatError("%s: not a vidcache cache: the zip has no data.pkl" % (path,))
    f.seek(0)
    return reader


def _load_restricted(path, torch, reader, restricted):
    """torch 1.x: unpickle data.pkl through the reader _check_container
    listed, with restricted.Unpickler (vidcache's three globals only).

    Not torch.load(pickle_module=...): torch 1.13's load() replaces
    pickle_module with pickle whenever weights_only is False
    (serialization.py: ``else: pickle_module = pickle``), and its
    weights-only unpickler rejects the frame rates (BINFLOAT). So this calls
    what load() calls for a zip that is not TorchScript,
    ``_load(opened_zipfile, map_location, pickle_module, **pickle_load_args)``
    with pickle_load_args {'encoding': 'utf-8'}, and refuses to load at all
    when that function is not there in that form.
    """
    import inspect

    fn = getattr(torch.serialization, "_load", None)
    try:
        params = list(inspect.signature(fn).parameters)[:3] if fn is not None else None
    except (TypeError, ValueError):
        params = None
    if params != ["zip_file", "map_location", "pickle_module"]:
        raise FormatError("%s: torch %s: vidcache cannot load a cache safely with this torch (no "
                          "torch.serialization._load(zip_file, map_location, pickle_module)); use torch 1.13 or 2.x"
                          % (path, torch.__version__))
    return fn(reader, "cpu", restricted, encoding="utf-8")


def _torch_load(path):
    """Load the cache at path through one open file: _check_container and
    the load read the same bytes with torch's own reader."""
    import torch

    from . import _restricted_pickle

    major = int(torch.__version__.split(".")[0])
    with open(path, "rb") as f:
        reader = _check_container(path, f, torch)
        if major >= 2:
            del reader  # torch.load builds its own on the same file, at offset 0
            try:
                return torch.load(f, map_location="cpu", weights_only=True)
            except Exception as e:
                m = _WO_GLOBAL.search(_ANSI.sub("", str(e)))
                name = m and (m.group(1) if "." in m.group(1) else "builtins." + m.group(1))
                if name and name not in {"%s.%s" % g for g in _restricted_pickle.ALLOWED_GLOBALS}:
                    raise _refused_global(path, name) from None
                if "Weights only load failed" in str(e):
                    raise FormatError("%s: not a vidcache cache: torch's weights-only loader refused it (%s); not loading it"
                                      % (path, _message(e))) from None
                raise
        try:
            return _load_restricted(path, torch, reader, _restricted_pickle)
        except _restricted_pickle.RefusedGlobal as e:
            raise _refused_global(path, e.qualified) from None


def load(path, *, root=None, split=None):
    """Load a vidcache cache as the dict for Kinetics(..., _precomputed_metadata=...).

    The file is opened once and only that open file is read: a file that
    does not start as a zip, or whose records (listed by torch's own zip
    reader, as torch.load will read them) are not a vidcache cache's - a
    second pickle, constants.pkl (TorchScript), names that differ only in
    case - is refused before anything is unpickled. It is then loaded from
    the same open file with torch.load(weights_only=True), or on torch 1.13
    (whose weights-only loader rejects the frame rates) by torch's own zip
    loader, through the reader that listed the records, with an unpickler
    that resolves only the three globals a vidcache cache names. Then it is
    checked:
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
        raise FormatError("%s: not a loadable vidcache cache: %s" % (path, _message(e))) from None
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
        want = _abs(root)
        have = os.path.normpath(info.get("root", ""))
        if not _same_place(want, have):
            raise DatasetMismatch("%s: built for the dataset root %s, not %s (paths in the cache are absolute); build one for it with: %s"
                                  % (path, have, want, _build_hint(want, split if split is not None else info.get("split"), target)))
    if split is not None and split != info.get("split"):
        raise DatasetMismatch("%s: built for split %r, not %r; build one for it with: %s"
                              % (path, info.get("split"), split, _build_hint(_abs(root) if root is not None else info.get("root"), split, target)))
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
    # Kinetics lists the videos under the root it was given (relative, with a
    # trailing slash, through a symlink), the cache under its absolute root:
    # compare where the paths point.
    canon = _Canonical()
    fresh_c = [canon(p) for p in fresh]
    cached_c = [canon(p) for p in cached]
    if fresh_c == cached_c:
        return dataset
    fs, cs = set(fresh_c), set(cached_c)
    added = [p for p, c in zip(fresh, fresh_c) if c not in cs]
    removed = [p for p, c in zip(cached, cached_c) if c not in fs]
    parts = []
    if added:
        parts.append("%d added (e.g. %s)" % (len(added), ", ".join(added[:examples])))
    if removed:
        parts.append("%d removed (e.g. %s)" % (len(removed), ", ".join(removed[:examples])))
    if not parts:
        parts.append("the same %d videos in another order" % len(fresh))
    root = getattr(dataset, "root", None)
    root = _abs(root) if root is not None else None
    split = getattr(dataset, "split", None)
    raise StaleCache("the cache is stale for %s: %s since it was built; labels would not match the videos. Rebuild it with: %s"
                     % (root or "this dataset", "; ".join(parts), _build_hint(root, split, required_target())))


def Kinetics(root, cache, *args, split="train", dataset_class=None, **kwargs):
    """torchvision.datasets.Kinetics built from a vidcache cache: load() with
    root and split, then check() the result.

    dataset_class is the class to build, torchvision's Kinetics or any
    subclass of it (e.g. the reference script's KineticsWithVideoId, whose
    items carry the video index); it is called as Kinetics is, with
    _precomputed_metadata added.
    """
    from torchvision.datasets import Kinetics as TVKinetics

    if dataset_class is None:
        dataset_class = TVKinetics
    elif not (isinstance(dataset_class, type) and issubclass(dataset_class, TVKinetics)):
        raise TypeError("vidcache.Kinetics: dataset_class must be torchvision.datasets.Kinetics or a subclass of it, "
                        "not %r" % (dataset_class,))
    if "_precomputed_metadata" in kwargs:
        raise TypeError("vidcache.Kinetics: _precomputed_metadata comes from the cache; pass the cache's path instead")
    meta = load(cache, root=root, split=split)
    ds = dataset_class(root, *args, split=split, _precomputed_metadata=meta, **kwargs)
    return check(ds)


def binary():
    """The path of the vidcache executable shipped in this package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "vidcache")
