"""Runs of background work that operators watch on /ops/runs: catalog ingestion today; news,
AI and reminder runs add their own `kind` to the same table."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blueberry.extensions import db
from blueberry.models.base import UTCDateTime, utcnow

STATUSES = ("running", "ok", "failed")


class JobRun(db.Model):
    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        Index("ix_job_run_kind_started_at", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "books.ingest", "books.sample"
    status: Mapped[str] = mapped_column(String(10), default="running", server_default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # fetched, added, updated, skipped, …
    error: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
