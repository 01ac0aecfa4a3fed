# Replaced by `make wheel` with the version in indexer/version.txt.
__version__ = "0+source"
