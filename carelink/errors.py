"""Exceptions that cross stage boundaries, in a module light enough for DAG files to import
(the DAG's retry policy names them at parse time).

The distinction that matters to operations: an unavailable source is worth retrying; bad
data is not — retrying a truncated file or a failed quality gate gives the same answer.
"""

from __future__ import annotations


class SourceError(Exception):
    """A source could not be read at all (database unreachable, folder unreadable).

    Transient by assumption: the extract task retries it with backoff.
    """


class WarehouseUnreachable(SourceError):
    """The warehouse could not be opened (a source's state lives there): retried like an
    unreachable source, and named as the warehouse so on-call looks in the right place."""


class BadDataError(Exception):
    """A night's data for one source cannot be trusted: never retried, reported, and that
    source's load is skipped while the others go on."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class ExtractRejected(BadDataError):
    """The extract itself failed its delivery checks (manifest, checksum, schema)."""


class GateBlocked(BadDataError):
    """A critical expectation failed for the source's extract."""


class NightOutOfOrder(Exception):
    """A night older than one already run: the warehouse only moves forward (LAS watermarks,
    current GP registers and person keys), so an older night cannot be loaded after a newer
    one. Never retried: the answer does not change."""


class RunInProgress(Exception):
    """Another `carelink run` or `carelink model train` is using the same data folder: two
    runs on one embedded Airflow metadata database and one warehouse would trip over each
    other's records, so the second stops at once, saying so."""


def driver_reason(exc: BaseException) -> str:
    """A database driver's own first line (`database disk image is malformed`), which names
    the problem and not the credentials; its type alone when it has no text. Takes a
    SQLAlchemy error (its `orig`) or the driver's exception itself."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(orig).__name__}: {text[:200]}" if text else type(orig).__name__
