# allowlist.py — print the globals torch's weights_only unpickler accepts by
# default, one per line (`make allowlists` stores them in cachefmt/allowlist/).
import warnings
warnings.filterwarnings("ignore")
import torch
from torch._weights_only_unpickler import _get_allowed_globals
print("# torch %s default weights_only allowlist" % torch.__version__)
for name in sorted(_get_allowed_globals()):
    print(name)
