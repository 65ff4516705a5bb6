"""Write canonical recordings (CSV + sidecar) atomically.

Data goes to a temporary file beside the target that is renamed into place
only when complete, so a failure never leaves a half-written recording or
clobbers an existing one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from repsense.io.sidecar import write_sidecar
from repsense.samples import SampleChunk

HEADER_6 = "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps"
HEADER_3 = "time_s,acc_x_g,acc_y_g,acc_z_g"


class RecordingWriter:
    """Append chunks to a canonical CSV; ``close()`` publishes it, ``abort()`` drops it."""

    def __init__(self, path: str | Path, *, has_gyro: bool, time_decimals: int = 6) -> None:
        self.path = Path(path)
        self.has_gyro = has_gyro
        self.samples = 0
        self._fmt = [f"%.{time_decimals}f"] + ["%.6f"] * 3 + (["%.4f"] * 3 if has_gyro else [])
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent or ".")
        self._tmp = Path(tmp)
        self._f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._f.write((HEADER_6 if has_gyro else HEADER_3) + "\n")

    def write(self, chunk: SampleChunk) -> None:
        """Append one chunk (its gyroscope is dropped if the file is accelerometer-only)."""
        if len(chunk) == 0:
            return
        cols = [chunk.t[:, None], chunk.acc]
        if self.has_gyro:
            if chunk.gyr is None:
                raise ValueError("this recording has gyroscope columns; the chunk has none")
            cols.append(chunk.gyr)
        np.savetxt(self._f, np.hstack(cols), fmt=self._fmt, delimiter=",")
        self.samples += len(chunk)

    def close(self, meta: dict[str, Any] | None = None) -> Path:
        """Finish the file, move it into place and write the sidecar if ``meta`` is given."""
        self._f.close()
        # mkstemp makes the file private; a recording gets the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)
        os.replace(self._tmp, self.path)
        if meta is not None:
            write_sidecar(self.path, meta)
        return self.path

    def abort(self) -> None:
        """Throw the partial file away."""
        self._f.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None and not self._f.closed:
            self.abort()


def write_recording(
    path: str | Path, chunks: Iterable[SampleChunk], meta: dict[str, Any] | None, *, has_gyro: bool
) -> Path:
    """Write all ``chunks`` to ``path`` (+ sidecar from ``meta``) in one go."""
    with RecordingWriter(path, has_gyro=has_gyro) as w:
        for chunk in chunks:
            w.write(chunk)
        return w.close(meta)
