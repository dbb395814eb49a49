"""The engine is a plain package: importing all of it loads no Django, Channels or Celery."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import runs.engine

FORBIDDEN = ("django", "channels", "celery", "daphne")


def test_importing_every_engine_module_loads_no_web_framework():
    root = Path(runs.engine.__file__).parent
    found = pkgutil.walk_packages([str(root)], prefix="runs.engine.")
    modules = ["runs.engine", *(m.name for m in found)]
    assert "runs.engine.patterns.pipeline" in modules and "runs.engine.models.offline" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    # A fresh interpreter: this test process has Django loaded by pytest-django.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"engine imports {done.stdout.strip()} {done.stderr[-2000:]}"
