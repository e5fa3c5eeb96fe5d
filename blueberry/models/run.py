"""Runs of background work that operators watch on /ops/runs: `JobRun` for batch work (catalog
ingestion, reminders; news adds its own `kind`), `AiRun` for each call of work that asks a
model (a reader's recommendations), with what it cost."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
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


AI_STATUSES = ("queued", "running", "ok", "failed")
AI_STAGES = ("queued", "candidates", "asking", "checking", "done")
AI_SOURCES = ("ai", "offline")


class AiRun(db.Model):
    """One run of AI work for a person: queued by a click, followed live by its `stage`."""

    __tablename__ = "ai_run"
    __table_args__ = (
        CheckConstraint(f"status IN {AI_STATUSES}", name="status_known"),
        CheckConstraint(f"stage IN {AI_STAGES}", name="stage_known"),
        Index("ix_ai_run_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "recommendation"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="queued", server_default="queued")
    stage: Mapped[str] = mapped_column(String(12), default="queued", server_default="queued")
    # Who chose: the model, or the local scorer (no key, no consent, or the model failed).
    source: Mapped[str] = mapped_column(String(10), default="", server_default="")
    model: Mapped[str] = mapped_column(String(100), default="", server_default="")
    prompt_version: Mapped[str] = mapped_column(String(20), default="", server_default="")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")  # model calls, retries included
    tokens_in: Mapped[int] = mapped_column(default=0, server_default="0")
    tokens_out: Mapped[int] = mapped_column(default=0, server_default="0")
    model_ms: Mapped[int] = mapped_column(default=0, server_default="0")  # time spent waiting for the model
    # What went wrong, for operators; the reader sees `notice` (a message key) instead.
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    notice: Mapped[str] = mapped_column(String(30), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.status in ("ok", "failed")

    @property
    def total_ms(self) -> int | None:
        end = self.finished_at
        return int((end - self.created_at).total_seconds() * 1000) if end else None
