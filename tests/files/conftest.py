from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def data() -> Path:
    return DATA
