"""``python -m nova_split_tools``: what build-support/bin/nova-split runs.

Until ``main`` installs its handlers, the imports take a moment (seconds on a loaded machine):
a SIGINT or SIGTERM then stops the program with its one line and exit 130, as later ones do;
nothing has started, so there is nothing to clean up.
"""

import signal
import sys
from types import FrameType


def _stopped(signum: int, frame: FrameType | None) -> None:
    print("nova-split: interrupted while starting", file=sys.stderr)
    sys.exit(130)


signal.signal(signal.SIGINT, _stopped)
signal.signal(signal.SIGTERM, _stopped)
from nova_split_tools.cli import main  # noqa: E402  (after the handlers, on purpose)

signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(main())
