"""Which write statements a block of code runs: for tests that hold a cost to a number of statements."""

from sqlalchemy import event

from blueberry.extensions import db


class statements_written:  # noqa: N801 (used as a context manager, like a function)
    """The INSERT and UPDATE statements run inside, by their first words (an executemany counts
    once per row)."""

    def __enter__(self) -> list[str]:
        self.seen: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._note)
        return self.seen

    def __exit__(self, *_exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:
        words = statement.split()
        if words[0] in ("INSERT", "UPDATE"):
            name = " ".join(words[:3] if words[0] == "INSERT" else words[:2])
            self.seen += [name] * (len(parameters) if executemany else 1)
