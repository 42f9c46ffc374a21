"""The exit codes of `netgen`: a contract, since Makefiles and CI depend on them."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    #: success (warnings allowed unless --strict)
    OK = 0
    #: the inventory or facts have errors (or warnings under --strict); nothing was written
    INPUT = 1
    #: usage error: bad flags, a missing file
    USAGE = 2
    #: --check: OUT differs from what would be rendered
    DRIFT = 3
    #: a bug in netgen
    INTERNAL = 70
    #: interrupted (Ctrl-C), or the reader of the output went away
    INTERRUPTED = 130
