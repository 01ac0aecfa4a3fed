# allowlist.py — print the globals torch's weights_only unpickler accepts by
# default, one per line (`make allowlists` stores them in cachefmt/pickle/allowlist/).
import warnings
warnings.filterwarnings("ignore")
import torch
from torch._weights_only_unpickler import _get_allowed_globals
print("# torch %s default weights_only allowlist" % torch.__version__)
for name in sorted(_get_allowed_globals()):
    print(name)
# The Python 2 names torch maps before checking the allowlist (torch 2.x).
try:
    from torch._utils import IMPORT_MAPPING, NAME_MAPPING
except ImportError:
    IMPORT_MAPPING, NAME_MAPPING = {}, {}
for (m, n), (m2, n2) in sorted(NAME_MAPPING.items()):
    print("map %s.%s -> %s.%s" % (m, n, m2, n2))
for m, m2 in sorted(IMPORT_MAPPING.items()):
    print("import %s -> %s" % (m, m2))
