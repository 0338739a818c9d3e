"""Time, injected so tests can fix "today" (ages are computed on the registration date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True, slots=True)
class Clock:
    fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()
