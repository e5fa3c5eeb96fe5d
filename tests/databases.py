"""The test database: SQLite files by default, PostgreSQL when TEST_DATABASE=postgres.

Either way each test gets its own database, copied from one migrated with the real migrations
at the start of the run: a file copy for SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL
(on the server at TEST_POSTGRES_URL, the throwaway cluster of scripts/with_postgres.sh).
Databases are named after the pytest-xdist worker, so parallel processes never share one.
"""

import itertools
import os
import shutil
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

KINDS = ("sqlite", "postgres")


def kind() -> str:
    """The database the suite runs on, from TEST_DATABASE (sqlite unless said)."""
    chosen = os.environ.get("TEST_DATABASE", "sqlite")
    if chosen not in KINDS:
        raise RuntimeError(f"TEST_DATABASE must be one of {KINDS}, not {chosen!r}")
    return chosen


class SQLiteFiles:
    """A migrated template file; each test a copy of it in its own folder."""

    def __init__(self, folder: Path):
        self.template = folder / "template.db"

    @property
    def template_url(self) -> str:
        return f"sqlite:///{self.template}"

    def fresh(self, folder: Path) -> str:
        path = folder / "blueberry.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        """Files go with the test's temporary folder."""


class PostgresDatabases:
    """Databases on one PostgreSQL server: a migrated template, and a copy per test."""

    def __init__(self, server_url: str, worker: str):
        self.server = make_url(server_url)
        self.prefix = f"bb_{worker}"
        self.numbers = itertools.count(1)
        self.template = self._create(f"{self.prefix}_template", template="template0")

    @property
    def template_url(self) -> str:
        return self._url(self.template)

    def fresh(self, _folder: Path | None = None, *, empty: bool = False) -> str:
        """A copy of the migrated template (or an empty database) for one test."""
        name = f"{self.prefix}_{next(self.numbers)}"
        return self._url(self._create(name, template="template0" if empty else self.template))

    def drop(self, url: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')

    def _create(self, name: str, template: str) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by a killed run
        # A file copy: the template is small, and the cluster runs with fsync off.
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return name

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        dsn = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(statement)
