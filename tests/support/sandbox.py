"""The tool sandbox's user for tests on this machine.

Where the tests run as root, the sandbox runs checkers as ``nobody``; that works only where
``nobody`` can run this interpreter. On a machine whose Python lives under ``/root`` (mode
0700) it cannot, and the product then fails closed with a message for the operator (tested
in tests/tools/test_tool_sandbox_isolates_checkers.py); the tests that only need a checker's
findings run it as the test's own user there. ``ruff`` (a binary in the virtualenv) runs as
``nobody`` either way.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys


@functools.cache
def nobody_can_run_python() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", ""], user="nobody", env={}, check=True,
            capture_output=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def sandbox_user() -> str:
    """``nobody`` where that user can run Python checkers here, else the test's own user."""
    return "nobody" if nobody_can_run_python() or os.geteuid() != 0 else ""
