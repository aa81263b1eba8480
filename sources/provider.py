"""Reader for the carers' service nightly extract ("provider extract").

The service drops a full snapshot as six CSV files plus `manifest.json` into
`<landing>/provider/<YYYY-MM-DD>/` (see the source specification, provider-extract.md).
This module picks the night's folder, proves the delivery is complete before trusting any of
it, and stages every row in the typed shape of `sources.tables.PROVIDER_FILES`.

Two kinds of bad data are told apart, because they need different handling:

* a broken *delivery* (manifest missing or disagreeing, a truncated or corrupted file, a
  changed schema) rejects the whole extract: it is copied, untouched, to the quarantine area
  and nothing is staged, because a half-loaded snapshot would silently look like carers
  disappearing;
* a bad *row* (unparseable date or integer, empty or duplicate key) is quarantined on its
  own, with its 1-based data row number, and the rest of the file is staged.

Reasons never carry a person's details: only the column name, and for a date or integer the
offending value itself. The raw rows are kept in the restricted quarantine folder instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Hashable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carelink import codelists, identity
from carelink.errors import SourceError
from sources.encoding import NotUtf8, utf8_text
from sources.quarantine import FORMAT_FAULT_ROWS, quarantine_folder, restrict
from sources.result import FileAccount, QuarantinedRow, SourceExtract
from sources.tables import PROVIDER_FILES, StagedTable

__all__ = ["CSV_COLUMNS", "LATE_ARRIVAL_DAYS", "extract"]

SOURCE = "provider"
# A folder may arrive up to two days late (specification, "dated folder").
LATE_ARRIVAL_DAYS = 2

# The columns each file must carry, as named in the specification. Columns of the staged
# table that are not here are derived (validity flags, mapped codes, lineage).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "carers.csv": (
        "carer_ref", "nhs_number", "title", "first_name", "last_name", "date_of_birth", "sex",
        "address_line_1", "town", "postcode", "district", "phone", "email",
        "has_long_term_condition", "employment_status", "hours_caring_per_week",
        "referral_date", "referral_source", "information_sharing", "status", "closed_date",
        "created_at", "updated_at",
    ),
    "cared_for.csv": (
        "cared_for_ref", "carer_ref", "first_name", "last_name", "date_of_birth", "nhs_number",
        "postcode", "carer_relationship", "main_need", "receives_services", "date_of_death",
    ),
    "assessments.csv": (
        "assessment_ref", "carer_ref", "stage", "assessment_date", "practitioner_ref",
        "risk_level", "weighted_score", "outcome",
    ),
    "star_scores.csv": (
        "star_ref", "carer_ref", "reading", "assessment_date", "recorded_at",
        "practitioner_ref", "completed_with", "total_score", "carer_self_rating",
    ),
    "sustainment_checks.csv": (
        "check_ref", "carer_ref", "plan_agreed_date", "check_type", "due_date", "check_date",
        "still_caring", "breakdown_reason", "breakdown_category",
    ),
    "support_plans.csv": (
        "plan_ref", "carer_ref", "plan_type", "agreed_date", "closed_date", "support_items",
    ),
}  # fmt: skip

# Kept inside datetime64[ns] range (1677..2262) so any pandas version can hold the column.
_MIN_TS, _MAX_TS = datetime(1678, 1, 1), datetime(2262, 1, 1)
_INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"^[+-]?\d+$")
_FOLDER_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RISK_FOLDED = {k.lower(): v for k, v in codelists.RISK_LEVEL_MAP.items()}


class _Rejected(Exception):
    """The delivery failed a whole-extract check; carries one reason per offending file."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in reasons.items()))
        self.reasons = reasons


# --- public entry point ----------------------------------------------------------------------


def extract(
    landing_dir: Path, extract_date: date, last_staged_snapshot: date | None = None,
    last_manifest_sha256: str | None = None,
) -> SourceExtract:
    """Read the provider snapshot for the night `extract_date`.

    Returns status "absent" when there is no usable folder (a missing night is legitimate),
    "rejected" when the delivery is incomplete or corrupt, otherwise "extracted" with one
    typed DataFrame per staged table. Raises `SourceError` only when the landing area itself
    cannot be read, which is worth a retry. `last_manifest_sha256` (the state's) tells a
    re-sent folder from the one already staged.
    """
    landing_dir = Path(landing_dir)
    folder, late, why_absent = _choose_folder(landing_dir, extract_date, last_staged_snapshot,
                                              last_manifest_sha256)
    if folder is None:
        return SourceExtract(SOURCE, extract_date, "absent", message=why_absent)
    folder_date = date.fromisoformat(folder.name)
    late_note = (
        f" (late folder: none for {extract_date.isoformat()}, used {folder_date.isoformat()})"
        if late
        else ""
    )

    try:
        parsed = _read_delivery(folder, folder_date)
    except _Rejected as rejected:
        return _reject(landing_dir, folder, extract_date, folder_date, rejected.reasons,
                       late_note)

    tables: dict[str, pd.DataFrame] = {}
    files: list[FileAccount] = []
    quarantine: list[QuarantinedRow] = []
    unreadable: dict[str, list[str]] = {name: [] for name in PROVIDER_FILES}
    staged_files = {name: _stage_file(name, spec, *parsed[name], folder_date, unreadable[name])
                    for name, spec in PROVIDER_FILES.items()}
    # A column in which not one value parses is a changed export format, not a few slips:
    # row by row it would quarantine a slice of the snapshot (every self-assessment, every
    # closed carer and all their rows) and load the rest as the night's whole picture, below
    # the volume check's radar. Like a missing column, it rejects the delivery.
    faults = {name: f"{name}: {'; '.join(found)}" for name, found in unreadable.items() if found}
    if faults:
        return _reject(landing_dir, folder, extract_date, folder_date, faults, late_note)
    _hold_back_orphans(staged_files)
    for file_name, spec in PROVIDER_FILES.items():
        header, records = parsed[file_name]
        df, bad = staged_files[file_name]
        tables[spec.name] = df
        files.append(FileAccount(file_name, rows_read=len(records), rows_staged=len(df),
                                 rows_quarantined=len(bad)))
        for row_number, reason in bad:
            quarantine.append(QuarantinedRow(SOURCE, file_name, row_number, reason))
        if bad:
            _write_quarantined_rows(landing_dir, folder_date, file_name, header, records, bad)

    staged = sum(f.rows_staged for f in files)
    held = sum(f.rows_quarantined for f in files)
    message = f"snapshot {folder_date.isoformat()} ({len(files)} files, {staged:,} rows"
    message += f", {held:,} quarantined)" if held else ")"
    return SourceExtract(
        SOURCE, extract_date, "extracted", tables=tables, files=files, quarantine=quarantine,
        message=message + late_note,
        state={"snapshot_date": folder_date.isoformat(),
               "manifest_sha256": _manifest_sha256(folder)},
    )


# --- choosing the night's folder -------------------------------------------------------------


def _choose_folder(
    landing_dir: Path, extract_date: date, last: date | None, last_sha: str | None = None
) -> tuple[Path | None, bool, str]:
    """(folder, is_late, reason when none).

    The folder for the night wins even when it equals the last staged snapshot: a re-sent
    export replaces the earlier one. A late folder (up to two days old) is used only when it
    is newer than what was staged, or is the staged one re-sent since (its manifest changed);
    otherwise last night's data would be loaded twice.
    """
    base = landing_dir / SOURCE
    try:
        if not landing_dir.is_dir():
            raise SourceError(f"landing area {landing_dir} is not available")
        if not base.exists():
            return None, False, _absent_message(extract_date, "no provider folder at all")
        dated = {
            date.fromisoformat(p.name): p
            for p in base.iterdir()
            if _FOLDER_NAME.match(p.name) and p.is_dir() and _is_date(p.name)
        }
    except PermissionError as exc:
        raise SourceError(f"provider landing folder unreadable: {exc}") from exc
    except OSError as exc:
        raise SourceError(f"provider landing folder unreadable: {exc}") from exc

    if extract_date in dated:
        if last is not None and extract_date < last:
            return None, False, (
                f"provider folder {extract_date.isoformat()} is older than the last staged "
                f"snapshot {last.isoformat()}; not reloaded"
            )
        return dated[extract_date], False, ""
    for back in range(1, LATE_ARRIVAL_DAYS + 1):
        candidate = extract_date - timedelta(days=back)
        if candidate in dated:
            if last is None or candidate > last:
                return dated[candidate], True, ""
            if candidate == last and last_sha is not None and _manifest_sha256(
                    dated[candidate]) not in (None, last_sha):
                return dated[candidate], True, ""  # re-sent after it was staged
            return None, False, _absent_message(
                extract_date,
                f"newest recent folder {candidate.isoformat()} was already staged",
            )
    return None, False, _absent_message(extract_date, "")


def _manifest_sha256(folder: Path) -> str | None:
    try:
        return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    except OSError:
        return None


def _absent_message(extract_date: date, detail: str) -> str:
    text = f"no provider folder for {extract_date.isoformat()}; a missing night is legitimate"
    return f"{text} ({detail})" if detail else text


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- delivery checks -------------------------------------------------------------------------


def _read_delivery(
    folder: Path, folder_date: date
) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Check the manifest, checksums, row counts and headers; return the parsed files.

    Every file is checked (not just the first failure) so that the report names everything
    wrong with the delivery at once.
    """
    manifest_path = folder / "manifest.json"
    try:
        if not os.access(folder, os.R_OK | os.X_OK):
            raise SourceError(f"provider folder {folder} unreadable")
        if not manifest_path.exists():
            raise _Rejected({"manifest.json": "manifest.json missing"})
        manifest_text = manifest_path.read_text(encoding="utf-8-sig")
    except PermissionError as exc:
        raise SourceError(f"provider folder unreadable: {exc}") from exc
    except OSError as exc:
        raise SourceError(f"provider folder unreadable: {exc}") from exc

    try:
        manifest = json.loads(manifest_text)
    except ValueError as exc:
        raise _Rejected({"manifest.json": f"manifest.json is not valid JSON ({exc.msg})"}) from exc
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict):
        raise _Rejected({"manifest.json": "manifest.json has no 'files' object"})

    reasons: dict[str, str] = {}
    declared = manifest.get("extract_date")
    if declared is not None and str(declared) != folder_date.isoformat():
        reasons["manifest.json"] = (
            f"manifest extract_date {declared} does not match folder {folder_date.isoformat()}"
        )
    for name in PROVIDER_FILES:
        if name not in listed:
            reasons[name] = f"{name}: required file not listed in manifest"

    parsed: dict[str, tuple[list[str], list[list[str]]]] = {}
    for name, entry in listed.items():
        if Path(name).name != name:
            reasons[name] = f"{name}: manifest names a path outside the folder"
            continue
        path = folder / name
        if not path.is_file():
            reasons[name] = f"{name}: listed in manifest but missing from the folder"
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), int) or \
                not isinstance(entry.get("sha256"), str):
            reasons[name] = f"{name}: manifest entry lacks integer 'rows' and 'sha256'"
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"provider file {name} unreadable: {exc}") from exc
        if hashlib.sha256(raw).hexdigest().lower() != entry["sha256"].strip().lower():
            reasons[name] = f"{name}: sha256 mismatch (corrupted or changed in transfer?)"
            continue
        try:
            header, records = _parse_csv(raw)
        except NotUtf8 as exc:
            reasons[name] = f"{name}: {exc}"
            continue
        except csv.Error as exc:
            reasons[name] = f"{name}: unreadable CSV ({type(exc).__name__})"
            continue
        if len(records) != entry["rows"]:
            reasons[name] = (
                f"{name}: {len(records)} data rows, manifest says {entry['rows']}"
                + (" (truncated in transfer?)" if len(records) < entry["rows"] else "")
            )
            continue
        if name in CSV_COLUMNS:
            missing = [c for c in CSV_COLUMNS[name] if c not in header]
            if missing:
                reasons[name] = f"{name}: schema changed, missing column(s) {', '.join(missing)}"
                continue
            # A column named twice cannot be read: which one holds the data is a guess (the
            # first was taken, so a re-ordered export emptied every carer's postcode without
            # a word). The GP reader refuses a repeated column for the same reason.
            repeated = sorted({c for c in CSV_COLUMNS[name] if header.count(c) > 1})
            if repeated:
                reasons[name] = (f"{name}: schema changed, repeated column(s) "
                                 f"{', '.join(repeated)}")
                continue
            parsed[name] = (header, records)
    if reasons:
        raise _Rejected(reasons)
    return parsed


def _parse_csv(raw: bytes) -> tuple[list[str], list[list[str]]]:
    """Header (trimmed names) and data records; fully blank lines are not records.

    The csv module, not a line count, decides what a record is: quoted fields may hold
    newlines. The byte-order mark the supplier's export usually carries is dropped.
    """
    text = utf8_text(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[list[str]] = []
    for record in reader:
        if not record or (len(record) == 1 and record[0] == ""):
            continue
        if header is None:
            header = [h.strip() for h in record]
        else:
            records.append(record)
    return header or [], records


def _reject(
    landing_dir: Path,
    folder: Path,
    extract_date: date,
    folder_date: date,
    reasons: dict[str, str],
    late_note: str,
) -> SourceExtract:
    """Keep the whole delivery in quarantine and account every file as rejected."""
    try:
        target = quarantine_folder(landing_dir, SOURCE, folder_date)
        restrict(shutil.copytree(folder, target, dirs_exist_ok=True))
    except OSError as exc:
        raise SourceError(f"could not copy rejected provider folder to quarantine: {exc}") from exc
    names = list(PROVIDER_FILES) + sorted(
        n for n in reasons if n not in PROVIDER_FILES and n != "manifest.json"
    )
    files = [FileAccount(n, status="rejected") for n in names]
    # Every file of the folder is a file not loaded, the sound ones too (said so, and why).
    faulty = ", ".join(sorted(reasons))
    quarantine = [QuarantinedRow(SOURCE, name, None, reason) for name, reason in reasons.items()]
    quarantine += [QuarantinedRow(SOURCE, name, None,
                                  f"not loaded: the delivery was rejected ({faulty})")
                   for name in names if name not in reasons]
    message = (
        f"provider extract {folder_date.isoformat()} rejected, nothing staged "
        f"({len(reasons)} problem(s): {'; '.join(reasons.values())}); folder copied to "
        f"quarantine{late_note}"
    )
    return SourceExtract(SOURCE, extract_date, "rejected", files=files, quarantine=quarantine,
                         message=message)


def _write_quarantined_rows(
    landing_dir: Path, folder_date: date, file_name: str, header: list[str],
    records: list[list[str]], bad: list[tuple[int, str]],
) -> None:
    """Raw rows as delivered plus where and why, for the data owner to correct at source."""
    try:
        path = quarantine_folder(landing_dir, SOURCE, folder_date) / file_name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([*header, "_row_number", "_reason"])
            for row_number, reason in bad:
                writer.writerow([*records[row_number - 1], row_number, reason])
        restrict(path)
    except OSError as exc:
        raise SourceError(f"could not write quarantine file for {file_name}: {exc}") from exc


# --- staging one file ------------------------------------------------------------------------


def _hold_back_orphans(
    staged_files: dict[str, tuple[pd.DataFrame, list[tuple[int, str]]]],
) -> None:
    """Quarantine rows whose carer file is not staged (its row was quarantined, or is not in
    the snapshot at all), in place.

    Such a row belongs to nobody the warehouse knows: staged, it would silently fall out of
    every mart that joins on the carer. Held back, it is counted and explained like any
    other quarantined row, and loads the night its carer's row is corrected.
    """
    carers_file = next(n for n, spec in PROVIDER_FILES.items() if spec.name == "provider_carer")
    carers = set(staged_files[carers_file][0]["carer_ref"].dropna())
    for name, (frame, bad) in staged_files.items():
        if name == carers_file or "carer_ref" not in frame.columns or frame.empty:
            continue
        orphan = ~frame["carer_ref"].isin(carers)
        if not orphan.any():
            continue
        bad.extend((int(r), f"its carer_ref is not staged: the carer's row is quarantined "
                            f"or missing from {carers_file}")
                   for r in frame.loc[orphan, "source_row"])
        bad.sort()
        staged_files[name] = (frame.loc[~orphan].reset_index(drop=True), bad)


def _stage_file(
    file_name: str,
    spec: StagedTable,
    header: list[str],
    records: list[list[str]],
    folder_date: date,
    unreadable: list[str] | None = None,
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Typed rows for the staged table, and (row_number, reason) for every row held back.
    A column none of whose values parses is noted in `unreadable` (a fault of the file)."""
    n = len(records)
    width = len(header)
    col_index = {}
    for i, name in enumerate(header):
        col_index.setdefault(name, i)
    wanted = CSV_COLUMNS[file_name]
    types = {c.name: c.type for c in spec.columns}
    reasons: list[list[str]] = [[] for _ in range(n)]

    for i, record in enumerate(records):
        if len(record) != width:
            reasons[i].append(f"row has {len(record)} fields, header has {width}")

    # Column-wise: one list per wanted column, padded for ragged rows (already quarantined).
    raw: dict[str, pd.Series] = {}
    for name in wanted:
        j = col_index[name]
        raw[name] = pd.Series([r[j] if j < len(r) else "" for r in records], dtype=object)
    text = {name: _clean(series) for name, series in raw.items()}

    out: dict[str, Any] = {}
    for name in wanted:
        values = text[name]
        kind = types.get(name, "text")
        if kind == "date":
            parse = _parse_birth_date if name == "date_of_birth" else _parse_date
            out[name] = _typed(values, name, "date", parse, reasons, unreadable)
        elif kind == "timestamp":
            out[name] = _typed(values, name, "timestamp", _parse_timestamp, reasons,
                                 unreadable)
        elif kind == "integer":
            out[name] = _typed(values, name, "integer", _parse_int, reasons, unreadable)
        else:
            out[name] = values

    # Not-null text columns in the contract (keys, carer_ref, information_sharing).
    key = spec.key[0]
    for column in spec.columns:
        if not column.nullable and column.name in wanted and types[column.name] == "text" \
                and column.name != "sex":
            for i in np.flatnonzero(text[column.name].isna().to_numpy()):
                reasons[i].append(f"empty {column.name}")

    # Duplicate keys: the first row with a key is kept, later ones held back (command-line
    # contract). A first row quarantined for a fault of its own still holds the key: a later
    # row with it is a duplicate, not a stand-in for the first.
    first_at: dict[str, int] = {}
    keys = text[key].tolist()
    for i, value in enumerate(keys):
        if value is None:
            continue
        if value in first_at:
            reasons[i].append(f"duplicate {key} (first at row {first_at[value]})")
        else:
            first_at[value] = i + 1

    _derive(out, text, file_name)
    out["extract_date"] = [folder_date] * n
    out["source_file"] = [file_name] * n
    out["source_row"] = pd.array(range(1, n + 1), dtype="Int64")

    good = np.array([not r for r in reasons], dtype=bool)
    frame = pd.DataFrame({name: _as_column(out[name], types[name], n)
                          for name in spec.column_names})
    frame = frame.loc[good].reset_index(drop=True)
    bad = [(i + 1, "; ".join(r)) for i, r in enumerate(reasons) if r]
    return frame, bad


def _clean(series: pd.Series) -> pd.Series:
    """Trim, fold inner white space, and turn every "not recorded" marker into None.

    Done once per distinct value (`identity.clean_text`, so every source agrees on what
    "not recorded" means): most columns repeat a handful of values across thousands of rows.
    """
    mapping = {value: identity.clean_text(value) for value in pd.unique(series.to_numpy())}
    cleaned = pd.Series([mapping[v] for v in series.to_numpy()], index=series.index,
                        dtype=object)
    return cleaned


def _typed(
    values: pd.Series,
    column: str,
    kind: str,
    parse: Callable[[str], Any],
    reasons: list[list[str]],
    unreadable: list[str] | None = None,
) -> pd.Series:
    """Parse each distinct value once (fast on 150k rows); note rows whose value fails."""
    mapping: dict[Hashable, Any] = {}
    failed: set[str] = set()
    for value in values.dropna().unique():
        try:
            mapping[value] = parse(value)
        except (ValueError, OverflowError):
            failed.add(value)
    if failed:
        hits = np.flatnonzero(values.isin(failed).to_numpy())
        for i in hits:
            # no value: dq.quarantine holds no row content (the row itself is kept in the
            # restricted quarantine folder, found by file and row number)
            reasons[i].append(f"bad {kind} in {column}")
        if not mapping and len(hits) > FORMAT_FAULT_ROWS and unreadable is not None:
            unreadable.append(f"every one of its {len(hits)} values in {column} fails to "
                              f"parse as {kind} (the export's format changed?)")
    return values.map(mapping)


def _parse_date(value: str) -> date:
    parsed = identity.parse_date_dmy(value)
    if parsed is None:  # pragma: no cover - missing values never reach here
        raise ValueError("no date")
    return parsed


def _parse_birth_date(value: str) -> date:
    """`DD/MM/YYYY`, or the same with day and month swapped, which the specification says
    staff sometimes do: `08/27/1952` can only be 27 August. Quarantining it would drop the
    carer and everything on their file (held back as orphans) from every night's snapshot;
    a swap that still reads as a real date (03/07 for 07/03) is the linkage's to allow for.
    """
    try:
        return _parse_date(value)
    except ValueError:
        day, sep, rest = value.partition("/")
        month, sep2, year = rest.partition("/")
        if not (sep and sep2):
            raise
        return _parse_date(f"{month}/{day}/{year}")


def _parse_timestamp(value: str) -> datetime:
    parsed = identity.parse_timestamp(value)
    # The messages never hold the value: it may be a date of birth (see DateFormatError).
    if parsed is None or parsed.tzinfo is not None:
        raise ValueError("no timestamp, or one with a zone")  # the spec: UK local time, no zone
    if not _MIN_TS <= parsed < _MAX_TS:
        raise ValueError("out of range")
    return parsed


def _parse_int(value: str) -> int:
    if not _INTEGER.match(value) or abs(int(value)) > _INT64_MAX:
        raise ValueError("not an integer")
    return int(value)


def _map_unique(values: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """Apply `fn` once per distinct value (None included) and spread the result."""
    mapping = {v: fn(v) for v in values.dropna().unique()}
    result = values.map(mapping)
    missing = values.isna()
    if missing.any():
        empty = fn(None)
        result = result.astype(object)
        result[missing] = [empty] * int(missing.sum())
    return result


def _derive(out: dict[str, Any], text: dict[str, pd.Series], file_name: str) -> None:
    """Columns computed from the delivered ones: validity flags, mapped codes."""
    if "nhs_number" in text:
        pairs = _map_unique(text["nhs_number"], identity.normalise_nhs_number)
        out["nhs_number"] = pairs.map(lambda p: p[0])
        out["nhs_number_valid"] = pairs.map(lambda p: p[1]).astype(bool)
    if "postcode" in text:
        out["postcode"] = _map_unique(text["postcode"], identity.normalise_postcode)
        out["postcode_valid"] = _map_unique(text["postcode"], identity.is_valid_postcode)
    if "sex" in text:
        out["sex"] = _map_unique(text["sex"], identity.normalise_sex)
    if "risk_level" in text:
        recorded = text["risk_level"]
        out["risk_level_as_recorded"] = recorded
        # Legacy cohorts map onto Low/High; an unknown value is kept for the quality gate.
        out["risk_level"] = _map_unique(
            recorded, lambda v: None if v is None else _RISK_FOLDED.get(v.lower(), v)
        )
    if file_name == "sustainment_checks.csv":
        reason = _map_unique(text["breakdown_reason"], codelists.breakdown_reason_for_label)
        out["breakdown_reason_code"] = reason.map(lambda r: r.code if r else None)
        out["breakdown_category"] = reason.map(lambda r: r.category if r else None)
        out["breakdown_category_as_recorded"] = text["breakdown_category"]


def _as_column(values: Any, kind: str, n: int) -> Any:
    """Give each logical type its agreed pandas representation."""
    if kind == "integer":
        series = pd.Series(values)
        return series.astype("Int64") if len(series) else pd.array([], dtype="Int64")
    if kind == "timestamp":
        return pd.to_datetime(pd.Series(values, dtype=object), errors="raise")
    if kind == "boolean":
        return pd.Series(values, dtype=bool) if n else pd.Series([], dtype=bool)
    if kind == "date":
        series = pd.Series(values, dtype=object)
        return series.where(series.notna(), None)
    series = pd.Series(values, dtype=object)
    return series.where(series.notna(), None)
