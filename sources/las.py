"""Reader for the council's adult social care system: the LAS reporting database.

The reporting database is read over SQL (any SQLAlchemy URL) incrementally: each view's rows
whose `last_updated` (for `person_merge`, `merged_at`) falls after the previous successful
night's high-water mark, less a one-hour overlap because replication commits late. Rows later
than the end of the extract date are never read, so that re-running (backfilling) an earlier
night sees the database as it stood that night, as far as the timestamps allow. A row with
no timestamp fits no window, so it is read every night rather than never; of two versions of
one key in a window, the latest is kept.

Rows are mapped to the staged tables in `sources.tables` (`LAS_VIEWS`). A row that cannot be
trusted (no key, a duplicate key, a value that does not parse) is quarantined, not guessed at;
an unreachable database raises `SourceError` so that the task retries, and a view or column
the specification names but the database lacks raises `ExtractRejected` (a schema change:
retrying cannot help); either way nothing partial is staged.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from carelink import codelists
from carelink.config import mask_url
from carelink.errors import ExtractRejected, SourceError, driver_reason
from carelink.identity import (
    DateFormatError,
    clean_text,
    is_valid_postcode,
    normalise_nhs_number,
    normalise_postcode,
    normalise_sex,
    parse_date_iso,
    parse_timestamp,
)
from sources.quarantine import FORMAT_FAULT_ROWS, quarantine_folder, restrict
from sources.result import FileAccount, QuarantinedRow, SourceExtract, staged_frame
from sources.tables import LAS_VIEWS

__all__ = ["OVERLAP", "extract"]

log = logging.getLogger(__name__)

SOURCE = "las"
_UK = ZoneInfo("Europe/London")
OVERLAP = timedelta(hours=1)  # replication commits late: re-read the last hour every night

# The column each view is windowed and ordered by, and its key.
_WINDOW_COLUMN = {
    "person": "last_updated",
    "person_relationship": "last_updated",
    "assessment": "last_updated",
    "care_package": "last_updated",
    "person_merge": "merged_at",
}
_KEY = {
    "person": "person_id",
    "person_relationship": "relationship_id",
    "assessment": "assessment_id",
    "care_package": "package_id",
    "person_merge": "old_person_id",
}
# The columns each view must have (the spec's real column names).
_VIEW_COLUMNS = {
    "person": ("person_id", "nhs_number", "forename", "surname", "date_of_birth", "gender",
               "address", "postcode", "district", "ethnicity", "date_of_death", "last_updated"),
    "person_relationship": ("relationship_id", "person_id", "related_person_id",
                            "relationship_type", "carer_relationship", "start_date",
                            "end_date", "last_updated"),
    "assessment": ("assessment_id", "person_id", "assessment_type", "assessment_date",
                   "carer_fatigue_noted", "carers_service_contact", "last_updated"),
    "care_package": ("package_id", "person_id", "primary_support_reason", "setting",
                     "start_date", "end_date", "weekly_cost", "includes_contingency", "funding",
                     "last_updated"),
    "person_merge": ("old_person_id", "new_person_id", "merged_at"),
}

_TRUE = frozenset({"1", "TRUE", "T", "Y", "YES"})
_FALSE = frozenset({"0", "FALSE", "F", "N", "NO"})


class _RowFault(ValueError):
    """A value in one row that cannot be staged; the row is quarantined."""


# --- public ----------------------------------------------------------------------------------


def extract(
    las_url: str,
    extract_date: date,
    since: datetime | None = None,
    landing_dir: Path | None = None,
) -> SourceExtract:
    """Read one night's changes from the LAS reporting database.

    `since` is the high-water mark of the previous successful extract (None on the first run,
    which reads everything up to the end of `extract_date`). The returned state's
    `high_water_mark` is the latest timestamp seen (or `since` again when nothing new arrived);
    the pipeline commits it only when the whole night succeeds, so a failed night is re-read.
    """
    lower = since - OVERLAP if since is not None else None
    upper = datetime.combine(extract_date + timedelta(days=1), datetime.min.time())
    where = mask_url(las_url)
    _check_sqlite_file(las_url, where)
    try:
        engine = sa.create_engine(las_url)
    except Exception as exc:  # bad URL or missing driver: nothing can be read
        # A configuration error, which no retry mends: fail at once and say what to fix.
        # The exception text may quote the URL, password and all: name only its type.
        scheme = las_url.split(":", 1)[0]
        raise ExtractRejected(
            SOURCE, f"LAS database {where}: the URL is not usable ({type(exc).__name__}: "
            f"no SQLAlchemy dialect or driver {scheme!r} here; PostgreSQL is written "
            "postgresql+psycopg://, SQLite sqlite:///path). Correct CARELINK_LAS_URL or the "
            "carelink_las connection"
        ) from exc

    raw: dict[str, list[dict[str, Any]]] = {}
    later = 0
    try:
        with engine.connect() as conn:
            for view in LAS_VIEWS:
                raw[view] = _read_view(conn, view, lower, upper, where)
                later += _count_later(conn, view, upper)
    except SourceError:
        raise
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DBAPIError) as exc:
        raise SourceError(f"LAS database {where} unreachable: {driver_reason(exc)}") from exc
    finally:
        engine.dispose()

    result = SourceExtract(source=SOURCE, extract_date=extract_date, status="extracted")
    high: datetime | None = None
    staged: dict[str, list[dict[str, Any]]] = {}
    mapped_views = {view: _map_view(view, rows, extract_date) for view, rows in raw.items()}
    faults = [f"view {view}: {fault}" for view, (_, bad) in mapped_views.items()
              for fault in _format_faults(raw[view], bad)]
    if faults:
        raise ExtractRejected(SOURCE, f"LAS database {where}: {'; '.join(faults)} (the view's "
                              "format changed?); nothing staged, the watermark stays")
    for view, rows in raw.items():
        good, bad = mapped_views[view]
        staged[view] = good
        for row in rows:  # the watermark covers every row returned, quarantined or not
            try:
                ts = _uk_local(parse_timestamp(row.get(_WINDOW_COLUMN[view])))
            except DateFormatError:
                ts = None
            if ts is not None and (high is None or ts > high):
                high = ts
        result.files.append(
            FileAccount(view, rows_read=len(rows), rows_staged=len(good),
                        rows_quarantined=len(bad), status="staged")
        )
        result.quarantine.extend(q for q, _ in bad)
        if bad and landing_dir is not None:
            _write_quarantine(landing_dir, extract_date, view, bad)

    merges = {r["old_person_id"]: r["new_person_id"] for r in staged["person_merge"]}
    for person in staged["person"]:
        person["merged_into"] = merges.get(person["person_id"])

    for view, rows in staged.items():
        table = LAS_VIEWS[view]
        result.tables[table.name] = staged_frame(table, rows)

    if high is None:
        high = since
    result.state = {
        "high_water_mark": high.isoformat() if high is not None else None,
        "merges_applied": len(merges),
    }
    total = sum(len(r) for r in raw.values())
    undated = sum(1 for view, rows in raw.items() for r in rows
                  if r.get(_WINDOW_COLUMN[view]) is None)
    if since is None:
        result.message = f"full extract (first run): {total:,} rows"
    else:
        result.message = (
            f"incremental since {since.isoformat()} (1h overlap): {total:,} rows"
        )
    if undated:
        result.message += f"; {undated:,} without a timestamp (read every night)"
    if later:
        # Not lost: the night that covers them reads them. Said, because a database stamped
        # after the night (a copy refreshed since, a clock set wrong) would else look empty.
        result.message += (f"; {later:,} row{'s' if later != 1 else ''} updated after "
                           f"{extract_date.isoformat()} left for a later night")
    if result.quarantine:
        result.message += f"; {len(result.quarantine):,} quarantined"
    log.info("las: %s", result.message)
    return result


# --- reading ---------------------------------------------------------------------------------


def _read_view(
    conn: sa.Connection, view: str, lower: datetime | None, upper: datetime, where: str
) -> list[dict[str, Any]]:
    """The view's rows in the window, ordered by key, as dicts of raw values.

    Identifiers are fixed names from the spec (never user input), values are bound.
    """
    prep = conn.dialect.identifier_preparer
    qview = prep.quote(view)
    try:
        probe = conn.execute(sa.text(f"SELECT * FROM {qview} WHERE 1 = 0"))
        present = {k.lower() for k in probe.keys()}
        probe.close()
    except (sa_exc.ProgrammingError, sa_exc.OperationalError) as exc:
        if _is_connection_error(exc):
            raise
        conn.rollback()
        raise ExtractRejected(SOURCE, f"LAS database {where}: view {view} not readable "
                              f"({driver_reason(exc)})") from exc
    missing = [c for c in _VIEW_COLUMNS[view] if c not in present]
    if missing:
        raise ExtractRejected(SOURCE, f"LAS database {where}: view {view} lacks column(s) "
                              f"{', '.join(missing)}")

    cols = ", ".join(prep.quote(c) for c in _VIEW_COLUMNS[view])
    wcol = _window_expr(conn, prep.quote(_WINDOW_COLUMN[view]))
    key = prep.quote(_KEY[view])
    conditions = [f"{wcol} < :upper"]
    params: dict[str, Any] = {"upper": _bind_ts(conn, upper)}
    if lower is not None:
        conditions.append(f"{wcol} > :lower")
        params["lower"] = _bind_ts(conn, lower)
    # A row without a timestamp cannot be placed in any night's window: it is read every
    # night (staging it again changes nothing), never silently left out. Within a key the
    # newest version comes first, so that the duplicate rule keeps the latest.
    sql = (f"SELECT {cols} FROM {qview} WHERE ({' AND '.join(conditions)}) "
           f"OR {wcol} IS NULL "
           f"ORDER BY {key}, CASE WHEN {wcol} IS NULL THEN 1 ELSE 0 END, {wcol} DESC")
    result = conn.execute(sa.text(sql), params)
    return [dict(m) for m in result.mappings()]


def _count_later(conn: sa.Connection, view: str, upper: datetime) -> int:
    """Rows stamped at or after the end of the night: a later night's to read."""
    prep = conn.dialect.identifier_preparer
    wcol = _window_expr(conn, prep.quote(_WINDOW_COLUMN[view]))
    sql = f"SELECT COUNT(*) FROM {prep.quote(view)} WHERE {wcol} >= :upper"
    return int(conn.execute(sa.text(sql), {"upper": _bind_ts(conn, upper)}).scalar() or 0)


def _check_sqlite_file(las_url: str, where: str) -> None:
    """A SQLite URL naming a file that is not there: say so, and do not let the driver create
    an empty database in its place (which would then read as "view missing")."""
    try:
        url = sa.engine.make_url(las_url)
    except sa_exc.ArgumentError:
        return  # create_engine reports a bad URL
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") \
            or database.startswith("file:"):
        return
    if not Path(database).is_file():
        raise SourceError(f"LAS database {where}: file not found")


def _is_connection_error(exc: sa_exc.DBAPIError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False)) or "unable to open" in str(exc)


def _window_expr(conn: sa.Connection, column: str) -> str:
    """SQLite keeps timestamps as text ('T' or space separated): normalise before comparing."""
    if conn.dialect.name == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f', {column})"
    return column


def _bind_ts(conn: sa.Connection, value: datetime) -> Any:
    if conn.dialect.name == "sqlite":
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]
    return value


# --- mapping ---------------------------------------------------------------------------------


def _map_view(
    view: str, rows: list[dict[str, Any]], extract_date: date
) -> tuple[list[dict[str, Any]], list[tuple[QuarantinedRow, dict[str, Any]]]]:
    """Staged rows and (quarantine entry, raw row) pairs, in the view's order."""
    mapper = _MAPPERS[view]
    key = _KEY[view]
    seen: dict[int, bool] = {}  # key -> whether its latest version was staged
    good: list[dict[str, Any]] = []
    bad: list[tuple[QuarantinedRow, dict[str, Any]]] = []
    for n, row in enumerate(rows, start=1):
        try:
            key_value = _int(row.get(key), key)
            if key_value is None:
                raise _RowFault(f"row {n}: no {key}")
            # No key value in the reason: dq.quarantine holds no row content. The row, key
            # and all, is in the restricted quarantine folder under the same row number.
            if key_value in seen:
                raise _RowFault(f"duplicate {key} (the latest version kept)" if seen[key_value]
                                else f"older version of a {key} whose latest version is "
                                "quarantined")
            # The latest version holds the key even when it is itself quarantined: an older
            # version staged in its place would load superseded values as tonight's, with
            # only the newer row reported (the provider reader's rule for a first row too).
            seen[key_value] = False
            mapped = mapper(row)
        except _RowFault as fault:
            bad.append((QuarantinedRow(SOURCE, view, n, str(fault)), row))
            continue
        seen[key_value] = True
        mapped.update(extract_date=extract_date, source_file=view, source_row=None)
        good.append(mapped)
    return good, bad


_VALUE_FAULT = re.compile(r"^bad (?P<kind>\w+) in (?P<column>\w+)$")


def _format_faults(rows: list[dict[str, Any]],
                   bad: list[tuple[QuarantinedRow, dict[str, Any]]]) -> list[str]:
    """Columns in which every value present failed to parse (more than a handful of them).

    Quarantined row by row, they would be lost for good: the watermark moves past them, and
    mending a view's format does not touch `last_updated`, so no later night reads them
    again. Rejected as a whole, the night is re-read once the view is put right."""
    failed: dict[tuple[str, str], int] = {}
    for q, _ in bad:
        match = _VALUE_FAULT.match(q.reason)
        if match:
            key = (match["column"], match["kind"])
            failed[key] = failed.get(key, 0) + 1
    out = []
    for (column, kind), n in failed.items():
        present = sum(1 for r in rows if clean_text(r.get(column)) is not None)
        if n > FORMAT_FAULT_ROWS and n == present:
            out.append(f"every one of its {n} values in {column} fails to parse as {kind}")
    return out


def _int(value: object, column: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _RowFault(f"bad integer in {column}")
    if isinstance(value, int):
        return value
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _RowFault(f"bad integer in {column}") from None
    if number != number.to_integral_value():
        raise _RowFault(f"bad integer in {column}")
    return int(number)


def _date(value: object, column: str) -> date | None:
    try:
        return parse_date_iso(value)
    except DateFormatError:
        raise _RowFault(f"bad date in {column}") from None


def _ts(value: object, column: str) -> datetime | None:
    try:
        return _uk_local(parse_timestamp(value))
    except DateFormatError:
        raise _RowFault(f"bad timestamp in {column}") from None


def _uk_local(value: datetime | None) -> datetime | None:
    """The views declare `timestamp` (UK local, no zone), but a value can still arrive with
    an offset (text in a SQLite copy, a `timestamptz` view after a failover). It names one
    instant, so it is kept as that instant in UK local time: compared as it came with the
    naive ones, it stopped the whole extract with a TypeError, every night."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(_UK).replace(tzinfo=None)


def _bool(value: object, column: str) -> bool | None:
    """Engines deliver booleans as bool, 0/1 (SQLite, SQL Server bit) or Y/N text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        if value in (0, 1):
            return bool(value)
        raise _RowFault(f"bad boolean in {column}")
    text = clean_text(value)
    if text is None:
        return None
    if text.upper() in _TRUE:
        return True
    if text.upper() in _FALSE:
        return False
    raise _RowFault(f"bad boolean in {column}")


def _money(value: object, column: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    text = clean_text(value)
    if text is None:
        return None
    try:
        return float(Decimal(text.replace(",", "").lstrip("£")))
    except InvalidOperation:
        raise _RowFault(f"bad number in {column}") from None


def _person(row: dict[str, Any]) -> dict[str, Any]:
    nhs, valid = normalise_nhs_number(row.get("nhs_number"))
    gender = clean_text(row.get("gender"))
    postcode = normalise_postcode(row.get("postcode"))
    return {
        "person_id": _int(row.get("person_id"), "person_id"),
        "nhs_number": nhs,
        "nhs_number_valid": valid,
        "forename": clean_text(row.get("forename")),
        "surname": clean_text(row.get("surname")),
        "date_of_birth": _date(row.get("date_of_birth"), "date_of_birth"),
        "gender": gender,
        "sex": normalise_sex(gender),
        "address": clean_text(row.get("address")),
        "postcode": postcode,
        "postcode_valid": is_valid_postcode(postcode),
        "district": clean_text(row.get("district")),
        "ethnicity": clean_text(row.get("ethnicity")),
        "date_of_death": _date(row.get("date_of_death"), "date_of_death"),
        "last_updated": _ts(row.get("last_updated"), "last_updated"),
        "merged_into": None,
    }


def _relationship(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "relationship_id": _int(row.get("relationship_id"), "relationship_id"),
        "person_id": _int(row.get("person_id"), "person_id"),
        "related_person_id": _int(row.get("related_person_id"), "related_person_id"),
        "relationship_type": clean_text(row.get("relationship_type")),
        "carer_relationship": clean_text(row.get("carer_relationship")),
        "start_date": _date(row.get("start_date"), "start_date"),
        "end_date": _date(row.get("end_date"), "end_date"),
        "last_updated": _ts(row.get("last_updated"), "last_updated"),
    }


def _assessment(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "assessment_id": _int(row.get("assessment_id"), "assessment_id"),
        "person_id": _int(row.get("person_id"), "person_id"),
        "assessment_type": clean_text(row.get("assessment_type")),
        "assessment_date": _date(row.get("assessment_date"), "assessment_date"),
        "carer_fatigue_noted": _bool(row.get("carer_fatigue_noted"), "carer_fatigue_noted"),
        "carers_service_contact": clean_text(row.get("carers_service_contact")),
        "last_updated": _ts(row.get("last_updated"), "last_updated"),
    }


def _care_package(row: dict[str, Any]) -> dict[str, Any]:
    reason = clean_text(row.get("primary_support_reason"))
    return {
        "package_id": _int(row.get("package_id"), "package_id"),
        "person_id": _int(row.get("person_id"), "person_id"),
        "primary_support_reason": reason,
        "primary_support_reason_code": (
            codelists.las_primary_support_reasons().get(reason) if reason else None
        ),
        "setting": clean_text(row.get("setting")),
        "start_date": _date(row.get("start_date"), "start_date"),
        "end_date": _date(row.get("end_date"), "end_date"),
        "weekly_cost": _money(row.get("weekly_cost"), "weekly_cost"),
        "includes_contingency": _bool(row.get("includes_contingency"), "includes_contingency"),
        "funding": clean_text(row.get("funding")),
        "last_updated": _ts(row.get("last_updated"), "last_updated"),
    }


def _merge(row: dict[str, Any]) -> dict[str, Any]:
    new = _int(row.get("new_person_id"), "new_person_id")
    if new is None:
        raise _RowFault("no new_person_id")
    return {
        "old_person_id": _int(row.get("old_person_id"), "old_person_id"),
        "new_person_id": new,
        "merged_at": _ts(row.get("merged_at"), "merged_at"),
    }


_MAPPERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "person": _person,
    "person_relationship": _relationship,
    "assessment": _assessment,
    "care_package": _care_package,
    "person_merge": _merge,
}


# --- output ----------------------------------------------------------------------------------


def _write_quarantine(
    landing_dir: Path, extract_date: date, view: str,
    bad: list[tuple[QuarantinedRow, dict[str, Any]]],
) -> None:
    """Raw rows go to the landing area's restricted quarantine folder, never to logs."""
    folder = quarantine_folder(landing_dir, SOURCE, extract_date)
    fields = [*_VIEW_COLUMNS[view], "_row_number", "_reason"]
    with open(folder / f"{view}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for q, row in bad:
            writer.writerow({**row, "_row_number": q.row_number, "_reason": q.reason})
    restrict(folder / f"{view}.csv")
