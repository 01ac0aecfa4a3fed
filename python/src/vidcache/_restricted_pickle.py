"""The pickle module vidcache.load unpickles a cache with on torch 1.x.

torch 1.13's weights-only unpickler rejects BINFLOAT, which every vidcache
cache holds (the frame rates). And torch 1.13's torch.load cannot be given
a restricted pickle module: with weights_only False it replaces any
pickle_module with pickle (serialization.py, load(): ``else: pickle_module
= pickle``). So on 1.x vidcache.load calls what torch.load calls for a zip,
torch.serialization._load(reader, "cpu", <this module>, encoding="utf-8"),
whose UnpicklerWrapper subclasses this module's Unpickler: find_class
resolves only the three globals a vidcache cache names and raises
RefusedGlobal for every other one, so nothing else can be imported, called
or built, whatever the bytes say (torch's wrapper answers names containing
"Storage" itself, with its inert StorageType, before asking ours).

_load uses only ``Unpickler`` (constructed with ``(file, encoding=...)``,
then given ``persistent_load``). ``load``, ``loads`` and ``__name__`` (what
torch.load's _check_dill_version and legacy path would use) are here too,
restricted the same way, so that nothing reaches the unrestricted ones
through this module.
"""

import importlib
import io
import pickle

from pickle import PickleError, UnpicklingError  # noqa: F401  (callers catch these by this module's name)

# Every global a vidcache cache may name (the Go writer uses no other).
ALLOWED_GLOBALS = frozenset({
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch", "LongStorage"),
    ("collections", "OrderedDict"),
})


class RefusedGlobal(UnpicklingError):
    """The pickle names a global that no vidcache cache names; nothing was
    imported for it."""

    def __init__(self, module, name):
        super().__init__("the pickle names the global %s.%s, which no vidcache cache does" % (module, name))
        self.module = module
        self.name = name

    @property
    def qualified(self):
        return "%s.%s" % (self.module, self.name)


class Unpickler(pickle.Unpickler):
    """pickle.Unpickler that resolves only ALLOWED_GLOBALS.

    The pair is compared exactly as the pickle spells it, before any
    Python 2 name mapping, and resolved by importing the module and reading
    the attribute directly (not through pickle's own find_class).
    """

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise RefusedGlobal(module, name)
        return getattr(importlib.import_module(module), name)


def load(file, **kwargs):
    return Unpickler(file, **kwargs).load()


def loads(data, /, **kwargs):
    return Unpickler(io.BytesIO(data), **kwargs).load()
