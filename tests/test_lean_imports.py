"""An API process does not load the heavy libraries only jobs need (zarr with numpy,
Pillow, HDF5/NWB readers): each would cost every API process tens of MiB."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("zarr", "numpy", "PIL", "h5py", "pynwb", "rdflib")


def test_the_asgi_app_imports_no_heavy_library(tmp_path):
    code = (
        f"import sys, dandi_archive.asgi; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    env = {"DANDI_ARCHIVE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
