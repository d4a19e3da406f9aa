"""Reliability (b)14 / (a)27 end to end: `catalyst-ibkr serve` on a damaged journal refuses to
start with exit 2 and one sentence (which file, what to do), never a driver traceback, and
never binds its port (so nothing can accept a signal it could not journal)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "catalyst-ibkr")

pytestmark = pytest.mark.timeout(120)


def test_serve_on_a_file_that_is_not_a_journal_exits_2_without_a_traceback(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.db"
    journal.write_bytes(b"this is not a database, it is a log file\n" * 200)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALYST_", "IBEAM_"))}
    done = subprocess.run(
        [CLI, "serve", "--sim", "--port", "0", "--db", f"sqlite:///{journal}"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=90,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "cannot open the journal" in done.stderr and str(journal) in done.stderr
    assert "serving on" not in done.stderr
