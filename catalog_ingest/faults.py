"""Named crash points for fault-injection tests: the process kills itself (SIGKILL) at the point named in
``LAKESCOUT_KILL_AT``, so a test can prove that a real death there leaves the served generation whole."""

from __future__ import annotations

import os
import signal

KILL_AT_VARIABLE = "LAKESCOUT_KILL_AT"


def fault_point(name: str) -> None:
    """Die here, at once and without cleanup, when ``LAKESCOUT_KILL_AT`` names this point."""
    if os.environ.get(KILL_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
