"""The NWB Inspector run over one stored file, in a child process of the job.

``python -m dandi_archive.standards.nwb_child LOCATION SIZE`` opens the file at LOCATION
(a local path or a presigned URL) through :class:`~.ranged.RangedFile`, so only the
parts HDF5 reads are fetched; validates it against its NWB schema with PyNWB; runs the
NWB Inspector with DANDI's configuration; and prints one JSON document on stdout:

    {"outcome": "checked", "inspector_version": ..., "messages": [...], "bytes_read": N}
    {"outcome": "not-checked", "reason": "...", "bytes_read": N}

A child of its own because HDF5 can crash or hang on a bad file and the libraries are
large: the job kills it at its time limit, and the serving process never loads them.
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from importlib import metadata
from typing import Any

from dandi_archive.standards.ranged import RangedFile, looks_like_hdf5

# A file with thousands of findings says what it has to in the first ones.
MAX_MESSAGES = 500


def _message(m: Any) -> dict[str, Any]:
    return {
        "check": m.check_function_name or "",
        "importance": m.importance.name,
        "message": str(m.message),
        "location": m.location or "",
        "object_type": m.object_type or "",
        "object_name": m.object_name or "",
    }


def inspect(location: str, size: int) -> dict[str, Any]:
    f = RangedFile(location, size)
    try:
        if not looks_like_hdf5(f):
            return {
                "outcome": "not-checked",
                "reason": "not an HDF5 file",
                "bytes_read": f.bytes_fetched,
            }
        try:
            import h5py
            import pynwb
            from nwbinspector import Importance, inspect_nwbfile_object, load_config
        except ImportError as exc:
            return {"outcome": "not-checked", "reason": f"nwbinspector not installed ({exc})"}
        f.seek(0)
        messages: list[dict[str, Any]] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                h5 = h5py.File(f, "r")
                io = pynwb.NWBHDF5IO(file=h5, mode="r", load_namespaces=True)
                nwbfile = io.read()
            except Exception as exc:  # what the file's bytes make PyNWB raise
                return {
                    "outcome": "not-checked",
                    "reason": f"PyNWB cannot read it: {type(exc).__name__}: {exc}"[:2000],
                    "bytes_read": f.bytes_fetched,
                }
            # Conformance to the file's own NWB schema, as `dandi validate` checks it.
            for error in pynwb.validate(io=io):
                messages.append(
                    {
                        "check": getattr(error, "name", "") or "pynwb_validation",
                        "importance": "PYNWB_VALIDATION",
                        "message": str(getattr(error, "reason", error)),
                        "location": getattr(error, "location", "") or "",
                        "object_type": "",
                        "object_name": "",
                    }
                )
            for m in inspect_nwbfile_object(
                nwbfile_object=nwbfile,
                config=load_config(filepath_or_keyword="dandi"),
                importance_threshold=Importance.BEST_PRACTICE_SUGGESTION,
            ):
                messages.append(_message(m))
                if len(messages) >= MAX_MESSAGES:
                    break
            io.close()
            h5.close()
        return {
            "outcome": "checked",
            "inspector_version": metadata.version("nwbinspector"),
            "messages": messages[:MAX_MESSAGES],
            "truncated": len(messages) >= MAX_MESSAGES,
            "bytes_read": f.bytes_fetched,
        }
    finally:
        f.close()


def main() -> None:
    location, size = sys.argv[1], int(sys.argv[2])
    try:
        result = inspect(location, size)
    except Exception as exc:  # the inspector itself failed: the file was not judged
        last = traceback.format_exception_only(exc)[-1].strip()
        result = {"outcome": "not-checked", "reason": f"the inspector failed: {last}"[:2000]}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
