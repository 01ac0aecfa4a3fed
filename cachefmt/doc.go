/*
Package cachefmt writes, reads, inspects and audits vidcache cache files: the
precomputed metadata of a video dataset in a form that
torch.load(path, weights_only=True) accepts without any allowlist changes.

# Container

A cache file is a PyTorch zip file (the format torch.save has written since
1.6). All entries are STORED (method 0) with correct CRC-32s and no data
descriptors, and all live under the folder "vidcache", in this order:

	vidcache/data.pkl     the pickle described below
	vidcache/byteorder    "little"
	vidcache/data/0       int64 pts: every video's timestamps, concatenated
	                      (torchvision-pyav), or 0, 1, ..., n-1 for the longest
	                      video's n frames (torchvision: frame indices)
	vidcache/data/1       int64 labels, one per video
	vidcache/data/2       int64 clip counts, one per video
	vidcache/version      "3\n"

The data of every entry starts at a multiple of 64 bytes from the start of the
file: the local header's extra field ends with a padding block of id 0x4246
("FB"), as torch.save writes it, so storages can be mapped without copying
(torch.load(path, mmap=True)). Local and central headers carry the fixed date
1980-01-01 and no timestamps, so the same input gives the same bytes. Entries
or offsets of 4 GiB and more use zip64 extra fields, and the end of the file
then has a zip64 end record and locator. No ".format_version" entry is
written (see the torch file-format notes: with it, some load paths compute
offsets from the layout instead of reading them).

# Pickle

data.pkl is a protocol-2 pickle that uses only these opcodes: PROTO, STOP,
MARK, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, SETITEMS, APPENDS, TUPLE,
TUPLE1, BININT, BININT1, BININT2, LONG1, BINFLOAT, BINUNICODE, NONE,
NEWFALSE, NEWTRUE, BINPUT, LONG_BINPUT, BINGET, LONG_BINGET, GLOBAL, REDUCE,
BINPERSID; and only these globals: torch._utils._rebuild_tensor_v2,
torch.LongStorage, collections.OrderedDict. All are on torch's default
weights_only allowlist from 2.0 on. BINFLOAT (a Python float: the frame
rates) is the one thing torch 1.13's weights-only loader rejects; on 1.13,
vidcache.load reads the file through torch's own zip reader with an
unpickler that resolves only these three globals.

Strings are BINUNICODE. A path that is not valid UTF-8 is stored as the str
Python's os.walk makes of it: each invalid byte b becomes the lone surrogate
U+DC00+b ("surrogateescape"), written as UTF-8 with surrogates passed
through, which torch's unpickler decodes ("surrogatepass") back to that same
str — so the path equals torchvision's, and os.fsencode gives the bytes back. Dicts are EMPTY_DICT followed by MARK ... SETITEMS
and lists EMPTY_LIST followed by MARK ... APPENDS, in batches of 1000 items.

The pickled value is a dict with these keys, in this order:

	video_paths         list of str: the dataset's videos in torchvision's order
	video_pts           list of 1-D int64 tensors: each video's frame pts (see Tensors)
	video_fps           list of float, int or None: each video's average frame rate
	classes             list of str: the sorted class names, empty classes included
	labels              int64 tensor [n]: class index of each video
	clip_counts         int64 tensor [n]: clips of each video for the stored configuration
	vidcache            dict: the configuration, keys below

The vidcache dict holds, in this order (TestDocKeys pins this list against
the writer):

	format_version      int: 2
	root                str: the dataset root the paths start with (--root-as applied)
	split               str
	extensions          list of str
	frames_per_clip     int
	step_between_clips  int
	frame_rate          float or None
	target              str: "torchvision" (0.26+) or "torchvision-pyav" (0.25 and earlier)
	mode                str: "scan" (target torchvision), "fast" or "exact" (torchvision-pyav), "imported"
	ffmpeg              str: the FFmpeg version that probed the videos
	tool_version        str: vidcache's version
	created_unix        int

Format version 1 (vidcache 0.1) had no target key and only the modes "fast"
and "exact": such a file is a torchvision-pyav cache, and this package still
reads it. A reader that knows only version 1 must refuse version 2 by its
format_version (vidcache.load refuses any version above the one it knows).

For the torchvision target a video's fps is stored as an int when
torchcodec's average_fps prints without a fraction (whole numbers below
1e16), as torchvision 0.26+ keeps it; otherwise as a float; None for a video
with no frames.

The first three keys are exactly what torchvision's
VideoClips._init_from_metadata reads, so the loaded dict is passed to
Kinetics(..., _precomputed_metadata=...) as it is.

# Tensors

A tensor is pickled as torch._utils._rebuild_tensor_v2(storage, offset,
(size,), (1,), False, hooks) — six arguments, the form every torch since 1.x
accepts — where storage comes from BINPERSID of the persistent id
('storage', torch.LongStorage, key, 'cpu', numel): key names the record
vidcache/data/<key> and numel is the element count of the whole record.
Every video_pts tensor is a view into the one storage "0". For the
torchvision-pyav target the first video's starts at offset 0 and each next
one where the previous ended; for the torchvision target every video's
starts at offset 0 and is as long as its frame count (torchvision 0.26+
stores frame indices 0..n-1), so the storage is one arange of the longest
video and a cache costs 41 bytes a video beside its path. An empty
tensor has size (0,) and offset 0.

The storage object the first BINPERSID returns is memoized (BINPUT) and
fetched back (BINGET) by every later view, as are the stride tuple, one empty
OrderedDict() used as every tensor's backward hooks (never mutated for int64
tensors), and the globals. torch's persistent_load and OrderedDict() then run
once per file, not once per video, and a video costs about 20 bytes of pickle
plus its path and 8 bytes a frame.

# Reading

Every reader finds a file's pickles through package torchfile, which reads
the container exactly as torch.load does and lists any layout another
reader could read differently; such files are unsafe for the audit and
refused by Load. Load reads any torch file, zip or legacy, with gopickle:
tensors and storages become gopickle values, every other global an inert
*Class whose instances are *Object records holding the arguments and state
the pickle carried. Nothing is imported or executed: before gopickle sees a
pickle, package cachefmt/pickle walks and simulates it (its lengths checked
against the bytes that hold them, its work within budgets) and names its
globals, and a storage is allocated only after its declared size has been
checked against the bytes that hold it. Loaded.Disallowed grades those
globals with the same policy as the audit (pickle.ImportPolicy). ReadFile
decodes a vidcache cache into a File: the Cache it was written from, the
one model of a cache that Encode takes too (a Video each, with its
timestamps), and its format version. ReadTorchvision reads torchvision's own
caches (a pickled dataset, VideoClips or metadata dict) into a
TorchvisionCache, that same model plus what was found and where the labels
came from, for vidcache import. The audit (pickle.Audit) scans pickles
opcode by opcode and grades them against the allowlists of torch 1.13 and
2.x, which were generated from those releases (make allowlists).
*/
package cachefmt
