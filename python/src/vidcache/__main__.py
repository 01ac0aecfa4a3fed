"""The vidcache console script: runs the static binary shipped in the wheel."""

import os
import stat
import sys

from . import binary


def main():
    exe = binary()
    if not os.path.exists(exe):
        sys.stderr.write("vidcache: the binary is missing from this installation (%s); reinstall the wheel\n" % exe)
        return 1
    if not os.access(exe, os.X_OK):
        try:
            os.chmod(exe, os.stat(exe).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError as e:
            sys.stderr.write("vidcache: %s is not executable: %s\n" % (exe, e))
            return 1
    os.execv(exe, ["vidcache"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
