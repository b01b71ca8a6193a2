"""configurable-http-proxy, the Node.js proxy JupyterHub routes people through: found on
PATH or under a prefix, else installed there from npm.

It is an npm package, not a Python one, so pip cannot bring it: ``npm install --prefix``
puts it under ``<prefix>/node_modules/.bin/``, which the hub uses from then on.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PACKAGE = "configurable-http-proxy"
# The major version JupyterHub 5 and 6 are tested with (its REST API is what the hub uses).
VERSION = "5"
COMMAND = "configurable-http-proxy"


class ProxyMissing(RuntimeError):
    """The proxy is not installed and cannot be (no npm, or npm failed)."""


def installed_command(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / COMMAND


def find_proxy(prefix: Path) -> Path | None:
    """The proxy under ``prefix`` (what ``install_proxy`` made), else one on PATH."""
    local = installed_command(prefix)
    if local.exists():
        return local
    found = shutil.which(COMMAND)
    return Path(found) if found else None


def install_proxy(prefix: Path, *, timeout: float = 600) -> Path:
    """``npm install --prefix <prefix> configurable-http-proxy@5``; the command's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise ProxyMissing(
            f"{PACKAGE} is missing and npm is not installed: install Node.js 20+ with npm "
            f"(Debian: apt-get install npm), or `npm install -g {PACKAGE}`."
        )
    prefix.mkdir(parents=True, exist_ok=True)
    argv = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund"]
    argv += ["--loglevel=error", f"{PACKAGE}@{VERSION}"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ProxyMissing(f"`npm install {PACKAGE}` took longer than {timeout:.0f} s.") from None
    command = installed_command(prefix)
    if done.returncode != 0 or not command.exists():
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ProxyMissing(f"`npm install {PACKAGE}` failed: " + " ".join(detail))
    return command


def ensure_proxy(prefix: Path) -> Path:
    return find_proxy(prefix) or install_proxy(prefix)
