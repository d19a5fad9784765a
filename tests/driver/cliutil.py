"""Running the ``ccomp`` command in a subprocess, as a user would, and checking that an
error is a message with exit code 1, never a traceback (shared by the driver's tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ccomp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccomp.driver.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


def assert_user_error(res: subprocess.CompletedProcess, *fragments: str) -> None:
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    for f in fragments:
        assert f in res.stderr, res.stderr
