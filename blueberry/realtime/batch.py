"""Group commit: one loop per process writes what many connections hand it, in one transaction.

A socket submits an item and, if it needs the outcome, waits on its ticket. The loop takes
everything queued, hands it to the batch's handler, commits once (the after-commit hook
publishes every event of the batch in one Redis round trip) and answers each ticket. With
nothing queued an item is written at once, so there is no added delay at low load; under load
the items that arrive during one commit go together in the next. Fewer, shorter write
transactions also mean fewer SQLite lock hand-overs between the worker processes.

Under SQLite, a batch that finds the other process writing does not wait inside SQLite (which
would freeze this whole process); it rolls back and tries again after a cooperative sleep.
If a batch fails, its items are tried one by one, so one bad item fails only its own ticket.
Work nobody waits for (delivered receipts) may also wait `gather_s` for more to arrive.
"""

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from blueberry.database import is_locked, locked_fails_at_once
from blueberry.extensions import db

log = logging.getLogger(__name__)
BATCH_LIMIT = 200
LOCK_RETRY_S, LOCK_RETRY_MAX_S, LOCK_WAIT_S = 0.0005, 0.01, 5.0  # the usual busy timeout, cooperatively


class Ticket:
    """The outcome of one submitted item: its result, or the exception that failed it."""

    __slots__ = ("done", "result")

    def __init__(self):
        self.done = threading.Event()
        self.result = None

    def set(self, result) -> None:
        self.result = result
        self.done.set()

    def wait(self, timeout: float):
        if not self.done.wait(timeout):
            raise TimeoutError("the batch was not written in time")
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class Batcher:
    """Items in, one transaction per batch out; `handle(items)` returns one result per item."""

    def __init__(self, app: Flask, name: str, handle: Callable[[list], list], gather_s: float = 0.0):
        self.app, self.name, self.handle, self.gather_s = app, name, handle, gather_s
        self.queue: list[tuple[object, Ticket]] = []
        self.lock, self.wakeup = threading.Lock(), threading.Event()
        self.lock_retries = 0  # batches that found another process writing and tried again
        threading.Thread(target=self._run, name=f"bb-batch-{name}", daemon=True).start()

    def submit(self, item) -> Ticket:
        ticket = Ticket()
        with self.lock:
            self.queue.append((item, ticket))
        self.wakeup.set()
        return ticket

    def _run(self) -> None:
        while True:
            self.wakeup.wait()
            self.wakeup.clear()
            if self.gather_s:  # nobody waits on these: let more arrive, for fewer transactions
                time.sleep(self.gather_s)
            while self.queue:
                with self.lock:
                    batch, self.queue = self.queue[:BATCH_LIMIT], self.queue[BATCH_LIMIT:]
                self._write(batch)

    def _write(self, batch: list) -> None:
        try:
            results = self._commit([item for item, _ in batch])
        except Exception as error:  # noqa: BLE001 (one bad item must not fail the others)
            if len(batch) > 1:
                for one in batch:
                    self._write([one])
                return
            log.exception("batch %s: an item could not be written", self.name)
            results = [error]
        for (_, ticket), result in zip(batch, results, strict=True):
            ticket.set(result)

    def _commit(self, items: list) -> list:
        """Handle and commit; while another process holds SQLite's write lock, wait cooperatively."""
        delay, deadline = LOCK_RETRY_S, time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                return self._commit_once(items)
            except OperationalError as error:
                if not is_locked(error) or time.monotonic() > deadline:
                    raise
            self.lock_retries += 1
            time.sleep(delay)  # gevent's sleep: this process's other greenlets go on meanwhile
            delay = min(delay * 2, LOCK_RETRY_MAX_S)

    def _commit_once(self, items: list) -> list:
        with self.app.app_context():
            try:
                with locked_fails_at_once():
                    results = self.handle(items)
                db.session.commit()
                return results
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()


def get_batcher(name: str, handle: Callable[[list], list], gather_s: float = 0.0) -> Batcher:
    """This process's batcher called `name` (started on first use, after gunicorn forked)."""
    batchers = current_app.extensions.setdefault("bb_batchers", {})
    if name not in batchers:
        batchers[name] = Batcher(current_app._get_current_object(), name, handle, gather_s)
    return batchers[name]
