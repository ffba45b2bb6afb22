"""``python -m nova_split_tools``: what build-support/bin/nova-split runs.

Until ``main`` installs its handlers (once the command line is parsed), the imports take a
moment (seconds on a loaded machine): a SIGINT or SIGTERM then stops the program with its one
line and exit 130, as later ones do. Nothing has started, so there is nothing to clean up, and
the exit is immediate (``os._exit``): an exception raised there could land inside an import and
be swallowed, and the command would go on after saying it had stopped.
"""

import os
import signal
import sys
from types import FrameType


def _stopped(signum: int, frame: FrameType | None) -> None:
    print("nova-split: interrupted while starting", file=sys.stderr, flush=True)
    os._exit(130)


signal.signal(signal.SIGINT, _stopped)
signal.signal(signal.SIGTERM, _stopped)
from nova_split_tools.cli import main  # noqa: E402  (after the handlers, on purpose)

code = main()
# Done: a signal now must not turn the command's exit code into an interruption it never had.
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.exit(code)
