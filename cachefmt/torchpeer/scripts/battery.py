# battery.py — the malicious-file battery for `vidcache audit` (see
# cachefmt/pickle/audit_battery_test.go). Modes:
#   battery.py hostile DIR   write the hostile files (no torch needed) and
#                            DIR/hostile.json: [{name, marker, kind}]
#   battery.py benign DIR    write benign torch.save files of this torch into
#                            DIR (with DIR/benign.json)
#   battery.py prove DIR     load every file listed in DIR/hostile.json with
#                            torch.load(weights_only=False), each in a forked
#                            child, and report whether its marker appeared;
#                            load every DIR/benign-*/ file with
#                            weights_only=True; print JSON.
# Every payload only creates its own marker file (open(MARKER, "w")) or runs
# `touch MARKER`: nothing else is touched.
import io, json, os, pickle, struct, sys, tarfile, zipfile

MAGIC = 0x1950A86A20F9469CFC6C


# --- pickle pieces -----------------------------------------------------------

def proto(p):
    return b"\x80" + bytes([p])


def su(s):  # SHORT_BINUNICODE (protocol 4) or BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b if len(b) < 256 else b"X" + struct.pack("<I", len(b)) + b


def bu(s):  # BINUNICODE (protocol 1+)
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def sbs(s):  # SHORT_BINSTRING (protocol 1+)
    b = s.encode()
    return b"U" + bytes([len(b)]) + b


def s0(s):  # STRING (protocol 0)
    return b"S" + repr(s).encode() + b"\n"


def v0(s):  # UNICODE (protocol 0)
    return b"V" + s.encode("raw_unicode_escape") + b"\n"


def glob(m, n):
    return b"c" + m.encode() + b"\n" + n.encode() + b"\n"


def tup(*items):  # MARK ... TUPLE, any protocol
    return b"(" + b"".join(items) + b"t"


def code_for(marker):
    return "open(%r, 'w').close()" % marker


# Each call pushes the result of running the payload for marker M; str is
# how strings are pushed (s0 for protocol 0, bu/sbs for 1-3, su for 4-5).
def calls(M, strf, stack_global):
    c = {
        "open": glob("builtins", "open") + tup(strf(M), strf("w")) + b"R",
        "exec": glob("builtins", "exec") + tup(strf(code_for(M))) + b"R",
        "eval": glob("builtins", "eval") + tup(strf(code_for(M))) + b"R",
        "os-system": glob("os", "system") + tup(strf("touch " + M)) + b"R",
        "posix-system": glob("posix", "system") + tup(strf("touch " + M)) + b"R",
        "subprocess": glob("subprocess", "check_call") + b"((" + strf("touch") + strf(M) + b"lt" + b"R",
        "inst": b"(" + strf(M) + strf("w") + b"ibuiltins\nopen\n",
        "obj": b"(" + glob("builtins", "open") + strf(M) + strf("w") + b"o",
        "getattr-import": glob("builtins", "getattr") + b"(" + glob("builtins", "__import__") + tup(strf("os")) + b"R"
        + strf("system") + b"tR" + tup(strf("touch " + M)) + b"R",
        "partial": glob("functools", "partial") + tup(glob("builtins", "open"), strf(M), strf("w")) + b"R" + b")R",
    }
    if stack_global:
        c["stack-global"] = su("builtins") + su("open") + b"\x93" + tup(su(M), su("w")) + b"R"
        # The names travel through the memo; decoys sit on the stack and
        # are popped: the global called is builtins.exec.
        c["stack-global-memo"] = (su("builtins") + b"\x94" + su("exec") + b"\x94" + b"0" + b"0"
                                  + su("torch._utils") + su("_rebuild_tensor_v2") + b"0" + b"0"
                                  + b"h\x00h\x01\x93" + tup(su(code_for(M))) + b"R")
        c["stack-global-binput"] = (su("os") + b"q\x05" + su("system") + b"r\x09\x00\x00\x00" + b"00"
                                    + b"h\x05j\x09\x00\x00\x00\x93" + tup(su("touch " + M)) + b"R")
        c["stack-global-dup"] = (su("builtins") + b"2" + b"0" + su("eval") + b"\x93" + tup(su(code_for(M))) + b"R")
    return c


def wrap(kind, call, strf, p):
    """A whole pickle (bytes) holding call in a benign-looking structure."""
    head = proto(p) if p >= 2 else b""
    if kind == "bare":
        return head + call + b"."
    if kind == "dict":
        return head + b"(" + strf("state") + call + strf("epoch") + b"K\x07" + b"d."
    if kind == "list":
        return head + b"(" + b"K\x01" + call + b"K\x02" + b"l."
    if kind == "broken-after":  # runs, then an unknown opcode and no STOP
        return head + call + b"\xff\xfe"
    if kind == "no-stop":
        return head + call
    if kind == "underflow-after":  # runs, then a REDUCE with nothing to call
        return head + call + b"0" + b"R."
    raise ValueError(kind)


def legacy(objpickle, magic=None):
    """A torch legacy (non-zip) file: magic, protocol, sys info, object, keys."""
    out = magic if magic is not None else pickle.dumps(MAGIC, protocol=2)
    out += pickle.dumps(1001, protocol=2)
    out += pickle.dumps({"protocol_version": 1001, "little_endian": True,
                         "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    out += objpickle
    out += pickle.dumps([], protocol=2)
    return out


def torch_zip(records, compress=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in records:
            z.writestr(name, data)
    return b.getvalue()


def hostile(out):
    os.makedirs(os.path.join(out, "markers"), exist_ok=True)
    files = []

    def add(name, data, kind):
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        files.append({"name": name, "path": path, "marker": marker(name), "kind": kind})

    def marker(name):
        return os.path.join(out, "markers", name + ".ran")

    # 1. Raw pickles: every call x protocols 0-5 (as torch's legacy loader
    #    unpickles the first pickle before it checks the magic number).
    for p, strf in ((0, s0), (1, sbs), (2, bu), (3, bu), (4, su), (5, su)):
        for cname in calls("M", strf, p >= 4):
            name = "raw-p%d-%s.pt" % (p, cname)
            add(name, wrap("bare", calls(marker(name), strf, p >= 4)[cname], strf, p), "raw")
    # protocol 0 with UNICODE strings
    name = "raw-p0-unicode.pt"
    add(name, glob("builtins", "open") + tup(v0(marker(name)), v0("w")) + b"R.", "raw")
    # 2. Wrappers: the payload inside containers, and followed by damage.
    for kind in ("dict", "list", "broken-after", "no-stop", "underflow-after"):
        for p, strf in ((0, s0), (2, bu), (4, su)):
            for cname in ("open", "os-system") + (("stack-global-memo",) if p >= 4 else ()):
                name = "wrap-%s-p%d-%s.pt" % (kind, p, cname)
                add(name, wrap(kind, calls(marker(name), strf, p >= 4)[cname], strf, p), "raw")
    # 3. Python 2 names, mapped by Python's unpickler (protocol < 3).
    name = "py2-builtin-open.pt"
    add(name, proto(2) + glob("__builtin__", "open") + tup(bu(marker(name)), bu("w")) + b"R.", "raw")
    name = "py2-builtin-eval.pt"
    add(name, glob("__builtin__", "eval") + tup(s0(code_for(marker(name)))) + b"R.", "raw")
    # 4. Legacy files: the payload as the object, with the magic number
    #    pickled in every way torch accepts, and as the magic itself.
    magics = {
        "canonical": pickle.dumps(MAGIC, protocol=2),
        "long1-11": proto(2) + b"\x8a\x0b" + MAGIC.to_bytes(11, "little") + b".",
        "long4": proto(2) + b"\x8b" + struct.pack("<I", 10) + MAGIC.to_bytes(10, "little") + b".",
        "proto3": pickle.dumps(MAGIC, protocol=3),
        "proto4": pickle.dumps(MAGIC, protocol=4),
        "proto5": pickle.dumps(MAGIC, protocol=5),
        "text": pickle.dumps(MAGIC, protocol=0),
    }
    for mname, mb in magics.items():
        for cname in ("open", "exec"):
            name = "legacy-%s-%s.pt" % (mname, cname)
            add(name, legacy(wrap("dict", calls(marker(name), bu, False)[cname], bu, 2), mb), "legacy")
    name = "legacy-payload-as-magic.pt"
    add(name, legacy(pickle.dumps({}, protocol=2), wrap("bare", calls(marker(name), bu, False)["open"], bu, 2)), "legacy")
    name = "legacy-payload-in-keys.pt"
    body = legacy(pickle.dumps({}, protocol=2))
    keys = pickle.dumps([], protocol=2)
    add(name, body[: len(body) - len(keys)] + wrap("bare", calls(marker(name), bu, False)["exec"], bu, 2), "legacy")
    name = "benign-then-malicious.pt"
    add(name, pickle.dumps(MAGIC, protocol=2) + wrap("bare", calls(marker(name), bu, False)["open"], bu, 2), "legacy")
    # 5. Zips: data.pkl under every spelling torch's reader matches.
    for rec in ("archive/data.pkl", "archive/DATA.PKL", "archive/Data.Pkl", "model/data.pkl", "x/data.PKL"):
        for comp in (False, True):
            for cname in ("open", "exec", "stack-global-memo"):
                name = "zip-%s-%s-%s.pt" % (rec.replace("/", "_").replace(".", "_"), "deflate" if comp else "store", cname)
                p, strf = (4, su) if cname.startswith("stack") else (2, bu)
                data = wrap("dict", calls(marker(name), strf, p >= 4)[cname], strf, p)
                top = rec.split("/")[0]
                add(name, torch_zip([(rec, data), (top + "/version", b"3\n"), (top + "/data/0", b"\0" * 16)], comp), "zip")
    # 6. Nested: a torch zip, or a legacy file, inside a zip record, up to 6
    #    deep. torch itself does not load nested files; audit must still
    #    report them (its README promises it).
    for depth in (1, 2, 6):
        name = "nested-zip-%d.pt" % depth
        inner = torch_zip([("archive/data.pkl", wrap("bare", calls(marker(name), bu, False)["open"], bu, 2)),
                           ("archive/version", b"3\n")])
        for _ in range(depth):
            inner = torch_zip([("archive/data.pkl", pickle.dumps({}, protocol=2)), ("archive/data/0", inner)])
        add(name, inner, "nested")
    name = "nested-legacy-in-zip.pt"
    add(name, torch_zip([("archive/data.pkl", pickle.dumps({}, protocol=2)),
                         ("archive/data/0", legacy(wrap("bare", calls(marker(name), bu, False)["open"], bu, 2)))]), "nested")
    # 7. Legacy tar: torch's oldest format; its loader unpickles 'storages'
    #    first. The first member is a harmless pickle.
    for first in ("sys_info", "harmless"):
        name = "tar-%s.pt" % first
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
            for mname, data in ((first, pickle.dumps({"protocol_version": 1001}, protocol=2)),
                                ("storages", wrap("bare", calls(marker(name), bu, False)["open"], bu, 2)),
                                ("tensors", pickle.dumps(0, protocol=2)), ("pickle", pickle.dumps({}, protocol=2))):
                ti = tarfile.TarInfo(mname)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
        add(name, b.getvalue(), "tar")
    with open(os.path.join(out, "hostile.json"), "w") as f:
        json.dump(files, f)
    print(json.dumps({"hostile": len(files)}))


def benign(out):
    import collections
    import torch
    os.makedirs(out, exist_ok=True)
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    objs = {
        "tensor": t,
        "dict": {"w": t, "b": torch.zeros(4, dtype=torch.int64), "step": 7, "lr": 0.1, "name": "x"},
        "list": [t, t[1], torch.ones(2, dtype=torch.uint8)],
        "tuple": (t, 1, "a", None, True),
        "set": {1, 2, 3},
        "ordereddict": collections.OrderedDict([("a", t), ("b", 2)]),
        "state-dict": torch.nn.Linear(3, 2).state_dict(),
        "nested": {"a": {"b": {"c": [t, {"d": t}]}}},
        "scalars": [1, 2.5, -3, 10**30, "s", b"bytes", None, False],
        "bytearray": bytearray(b"abc"),
        "empty": {},
    }
    names = []
    for name, obj in objs.items():
        for legacy_format in (False, True):
            fn = "%s%s.pt" % (name, "-legacy" if legacy_format else "")
            try:
                torch.save(obj, os.path.join(out, fn), _use_new_zipfile_serialization=not legacy_format)
            except Exception:
                continue
            names.append(fn)
    with open(os.path.join(out, "benign.json"), "w") as f:
        json.dump(names, f)
    print(json.dumps({"torch": torch.__version__, "benign": len(names)}))


def prove(out):
    import signal
    import torch
    res = {"torch": torch.__version__, "hostile": {}, "benign": {}}
    with open(os.path.join(out, "hostile.json")) as f:
        files = json.load(f)

    def in_child(fn):
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)
            try:
                fn()
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, st = os.waitpid(pid, 0)
        return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0

    for e in files:
        if os.path.exists(e["marker"]):
            os.remove(e["marker"])
        loaded = in_child(lambda: torch.load(e["path"], weights_only=False))
        res["hostile"][e["name"]] = {"ran": os.path.exists(e["marker"]), "loaded": loaded}
        if os.path.exists(e["marker"]):
            os.remove(e["marker"])
    for d in sorted(os.listdir(out)):
        if not d.startswith("benign-") or not os.path.isdir(os.path.join(out, d)):
            continue
        with open(os.path.join(out, d, "benign.json")) as f:
            for fn in json.load(f):
                p = os.path.join(out, d, fn)
                res["benign"][d + "/" + fn] = in_child(lambda: torch.load(p, weights_only=True))
    print(json.dumps(res))


if __name__ == "__main__":
    {"hostile": hostile, "benign": benign, "prove": prove}[sys.argv[1]](sys.argv[2])
