"""Before prometheus-client is imported: the directory its multiprocess mode keeps values in."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def enable_multiprocess() -> Path:
    """A fresh directory for every process's metric files, named in the environment (inherited by
    the spawned workers). Call before ``lrs_server.metrics`` (prometheus-client) is imported."""
    directory = Path(tempfile.mkdtemp(prefix="lrs-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory
