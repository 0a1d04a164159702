"""The code stays `ruff` clean: part of the test command, so CI and the README run it too."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def test_ruff_check_is_clean() -> None:
    if (
        shutil.which("ruff") is None
        and subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True, check=False).returncode
    ):
        pytest.skip("ruff is not installed: `pip install -e '.[test]'` brings it")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
