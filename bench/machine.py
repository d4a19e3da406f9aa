"""The machine and software a run measured, so numbers are never quoted without context."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["describe_machine", "package_versions", "tool_version"]

PACKAGES = ("catalyst-ibkr", "httpx", "aiohttp", "ibind", "requests", "ib_async", "fastapi",
            "uvicorn", "sqlalchemy")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine() -> list[tuple[str, str]]:
    return [
        ("CPUs (nproc)", str(os.cpu_count() or "?")),
        ("CPU model", _cpu_model()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
    ]


def package_versions() -> list[tuple[str, str]]:
    out = []
    for name in PACKAGES:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def tool_version(tool: str) -> str | None:
    """``wrk -v`` prints its version on the first line (and exits 1)."""
    if shutil.which(tool) is None:
        return None
    proc = subprocess.run([tool, "-v"], capture_output=True, text=True, timeout=10)
    text = (proc.stdout or proc.stderr).strip().splitlines()
    return text[0] if text else tool
