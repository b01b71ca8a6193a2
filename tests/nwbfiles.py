"""Real NWB files, written by PyNWB, for tests whose archive inspects what it stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path


def nwb_bytes(tmp_path: Path, *, subject: bool = True, big_mib: int = 0) -> bytes:
    """An NWB file written by PyNWB: without experimenter (a best-practice suggestion),
    and without subject if asked (critical in DANDI's configuration)."""
    import numpy as np
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.file import Subject

    nwb = NWBFile(
        session_description="Recording of a mouse in its home cage",
        identifier=f"test-{subject}-{big_mib}",
        session_start_time=datetime(2024, 1, 1, 12, tzinfo=UTC),
        subject=Subject(subject_id="m1", species="Mus musculus", sex="F", age="P90D")
        if subject
        else None,
    )
    samples = max(1, big_mib * 2**20 // 8)  # four int16 channels
    data = np.random.default_rng(0).integers(-1000, 1000, size=(samples, 4), dtype=np.int16)
    nwb.add_acquisition(
        TimeSeries(name="voltage", data=data, unit="V", rate=30000.0, description="trace")
    )
    path = tmp_path / f"f-{subject}-{big_mib}.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path.read_bytes()
