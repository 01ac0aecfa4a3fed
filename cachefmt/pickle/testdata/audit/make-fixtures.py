# make-fixtures.py — regenerate the audit fixtures with Debian 12's torch 1.13:
#   cd cachefmt/pickle/testdata/audit && /usr/bin/python3 make-fixtures.py ../../../../testdata/sample
# The hostile pickles are only written here, never loaded.
import io, os, pickle, struct, sys, zipfile, warnings
warnings.filterwarnings("ignore")
import numpy as np
import torch, torchvision
from torchvision.datasets import Kinetics


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


# Raw pickles that would run code through REDUCE.
write("os-system.pkl", pickle.dumps(Evil(os.system, "echo pwned"), protocol=2))
import builtins
write("builtins-eval.pkl", pickle.dumps(Evil(builtins.eval, "1+1"), protocol=2))
# STACK_GLOBAL with the names stored in and fetched back from the memo.
p = b"\x80\x04" + b"\x8c\x02os\x94" + b"\x8c\x06system\x94" + b"h\x00h\x01\x93" + b"\x8c\x0aecho pwned\x85R."
write("stack-global-memo.pkl", p)

# torch files
torch.save({"x": torch.arange(3), "y": [torch.ones(2)], "z": {"k": 1}}, "harmless.pt")
torch.save({"x": torch.arange(3)}, "harmless-legacy.pt", _use_new_zipfile_serialization=False)
torch.save({"a": np.arange(3)}, "numpy-array.pt")
torch.save({"run": Evil(os.system, "echo pwned")}, "os-system.pt")
torch.save({"run": Evil(os.system, "echo pwned")}, "os-system-legacy.pt", _use_new_zipfile_serialization=False)
ds = Kinetics(sys.argv[1], frames_per_clip=4, num_workers=0)
torch.save((ds, sys.argv[1] + "/train"), "kinetics-dataset.pt")

# A zip holding a torch file: the outer zip's own data.pkl is harmless, the
# nested one is not.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("archive/data.pkl", pickle.dumps({"ok": 1}, protocol=2))
    z.writestr("archive/version", "3\n")
    z.write("os-system.pt", "archive/extra/inner.pt")
write("nested-zip.pt", buf.getvalue())
print("fixtures written with torch", torch.__version__)
