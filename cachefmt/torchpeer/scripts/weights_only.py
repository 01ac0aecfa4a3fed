# weights_only.py FILE... — try torch.load(FILE, weights_only=True) on each
# file and print {file: "ok" | error}. Nothing is loaded without weights_only.
import json, sys, warnings
warnings.filterwarnings("ignore")
import torch
out = {}
for f in sys.argv[1:]:
    try:
        torch.load(f, weights_only=True)
        out[f] = "ok"
    except Exception as e:
        out[f] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
json.dump(out, sys.stdout)
