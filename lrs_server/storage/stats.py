"""Figures read for the metrics endpoint (at scrape time, not per call)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from lrs_server.storage.tables import ReviewItemRecord

REVIEW = ReviewItemRecord.__table__  # type: ignore[attr-defined]


def open_review_items(engine: Engine) -> int:
    """Registrations waiting for a review operator's decision."""
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(REVIEW).where(REVIEW.c.status == "open"))
        return int(count.scalar_one())
