"""Reader for the GP practices' monthly carer-register files.

Files land as `<landing>/gp/<practice_ods>_<YYYYMM>.csv`. The newest file per practice is that
practice's current register, so a night stages, for each practice whose newest file is new or
changed since the last successful night, the whole of that file; the caller then replaces the
practice's earlier register with it (`state["practices_replaced"]`). Practices whose newest
file is unchanged are left alone, and so are practices whose new file had to be rejected
(unknown layout, unknown practice): their last good register stays current. A practice that
has none yet (its first night) gets its newest older file that can be read, so that one bad
delivery does not leave it out of the warehouse altogether.

Only files for months up to the extract date's month are considered, so a backfilled night
sees no register from its future.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from carelink import codelists
from carelink.codelists import Practice
from carelink.errors import SourceError
from carelink.identity import (
    DateFormatError,
    clean_text,
    is_valid_postcode,
    nhs_digits,
    normalise_nhs_number,
    normalise_postcode,
    normalise_sex,
    parse_date_emis,
    parse_date_iso,
)
from sources.encoding import NotUtf8, utf8_text
from sources.quarantine import quarantine_folder, restrict
from sources.result import FileAccount, QuarantinedRow, SourceExtract, staged_frame
from sources.tables import GP_REGISTER_ENTRY

__all__ = ["EMIS_COLUMNS", "FILE_NAME", "SYSTMONE_COLUMNS", "extract"]

log = logging.getLogger(__name__)

SOURCE = "gp"
# `.CSV` too: Windows upload tools often write the extension in capitals.
FILE_NAME = re.compile(
    r"^(?P<ods>[A-Z][0-9]{5})_(?P<year>[0-9]{4})(?P<month>0[1-9]|1[0-2])\.(?i:csv)$")

EMIS_COLUMNS = (
    "NHS Number", "Title", "First Name", "Surname", "Date of Birth", "Sex", "Postcode",
    "Carer Code", "Carer Code Term", "Date Recorded", "Last Carer Review",
    "No Longer Carer Date", "Cared For NHS Number", "Cared For Name",
)
SYSTMONE_COLUMNS = (
    "NHSNumber", "Forename", "Surname", "DOB", "Gender", "PostCode", "CarerCode", "CodeDate",
    "ReviewDate", "CeasedDate", "CaredForNHSNumber", "CaredForForename", "CaredForSurname",
    "CaredForDOB",
)
EMIS, SYSTMONE = "EMIS Web", "SystmOne"

# Staged column ← source column, per layout (None: the layout has no such column).
_LAYOUT_MAP: dict[str, dict[str, str | None]] = {
    EMIS: {
        "nhs_number": "NHS Number", "title": "Title", "first_name": "First Name",
        "last_name": "Surname", "date_of_birth": "Date of Birth", "sex": "Sex",
        "postcode": "Postcode", "carer_code": "Carer Code", "carer_code_term": "Carer Code Term",
        "date_recorded": "Date Recorded", "last_review_date": "Last Carer Review",
        "no_longer_carer_date": "No Longer Carer Date",
        "cared_for_nhs_number": "Cared For NHS Number", "cared_for_name": "Cared For Name",
        "cared_for_first_name": None, "cared_for_last_name": None,
        "cared_for_date_of_birth": None,
    },
    SYSTMONE: {
        "nhs_number": "NHSNumber", "title": None, "first_name": "Forename",
        "last_name": "Surname", "date_of_birth": "DOB", "sex": "Gender",
        "postcode": "PostCode", "carer_code": "CarerCode", "carer_code_term": None,
        "date_recorded": "CodeDate", "last_review_date": "ReviewDate",
        "no_longer_carer_date": "CeasedDate", "cared_for_nhs_number": "CaredForNHSNumber",
        "cared_for_name": None, "cared_for_first_name": "CaredForForename",
        "cared_for_last_name": "CaredForSurname", "cared_for_date_of_birth": "CaredForDOB",
    },
}
_DATE_FIELDS = ("date_of_birth", "date_recorded", "last_review_date", "no_longer_carer_date",
                "cared_for_date_of_birth")
_DATE_FORMAT = {EMIS: "DD-Mon-YYYY", SYSTMONE: "YYYY-MM-DD"}


class _RowFault(ValueError):
    """One row that cannot be staged; quarantined with its row number."""


@dataclass
class _File:
    path: Path
    name: str
    sha256: str
    ods: str | None = None
    month: date | None = None


# The state's mark on a file rejected because its practice is not (yet) in the list.
NOT_LISTED = "|practice not listed"

# --- public ----------------------------------------------------------------------------------


def extract(
    landing_dir: Path,
    extract_date: date,
    seen_files: dict[str, str] | None = None,
    practices: Mapping[str, Practice] | None = None,
    registers: dict[str, str] | None = None,
) -> SourceExtract:
    """Stage the current register of every practice whose newest file is new or changed.

    `seen_files` (file name → sha256) is the state of the last successful night; a file is
    "changed" when its sha256 differs, which is how a re-sent file under the same name is
    picked up. The returned state's `files` is `seen_files` updated with every file examined
    tonight; the pipeline commits it only when the night succeeds.

    `registers` (practice → the file its staged register came from) says which practices
    already have a register. When a practice's newest file cannot be used, one that has a
    register keeps it; one that has none yet gets its newest usable older file, which was
    its current register until the unusable one arrived, rather than no register at all.
    """
    seen = dict(seen_files or {})
    staged_from = dict(registers or {})

    # A state from before registers were recorded: any practice with a file seen on an
    # earlier night may have a register.
    legacy = set() if registers is not None else {n.split("_")[0] for n in seen_files or {}}

    def has_register(ods: str) -> bool:
        return ods in staged_from or ods in legacy

    known = codelists.practices() if practices is None else practices
    folder = landing_dir / "gp"
    result = SourceExtract(source=SOURCE, extract_date=extract_date, status="extracted")
    result.tables[GP_REGISTER_ENTRY.name] = staged_frame(GP_REGISTER_ENTRY, [])
    result.state = {"files": seen, "practices_replaced": [], "registers": staged_from}

    if not landing_dir.is_dir():
        raise SourceError(f"landing area {landing_dir} is not available")
    if not folder.exists():
        if staged_from:
            # Registers once read from here do not vanish: a dropped mount of the GP
            # transfer share, not a night with nothing new (retried, then the night fails).
            raise SourceError(f"gp folder {folder} is missing, though {len(staged_from)} "
                              "practices' registers were read from it (share not mounted?)")
        result.status = "absent"
        result.message = "no gp folder in the landing area"
        return result
    try:
        # regular files and links (a broken link is a delivery fault to report); never a
        # pipe or a device, which would block the read
        entries = sorted(p for p in folder.iterdir() if p.is_file() or p.is_symlink())
    except OSError as exc:
        raise SourceError(f"gp landing folder unreadable: {type(exc).__name__}") from exc
    if not entries:
        result.status = "absent"
        result.message = "gp folder is empty"
        return result
    this_month = extract_date.replace(day=1)
    files: list[_File] = []
    unreadable, unreadable_month = 0, {}  # practice → newest month of a file it cannot read
    for path in entries:
        match = FILE_NAME.match(path.name)
        month = date(int(match["year"]), int(match["month"]), 1) if match else None
        if month is not None and month > this_month:
            continue  # the future, for a backfilled night: not examined, not remembered
        try:
            files.append(_File(path, path.name, _sha256(path)))
        except OSError as exc:
            # A file a practice cannot give us (a broken link, no read permission) is that
            # practice's problem alone: named, quarantined, tried again the next night, and
            # the practice keeps its previous register (an older file of theirs is not
            # promoted in its place); the other practices load.
            unreadable += 1
            if match and month is not None:
                unreadable_month[match["ods"]] = max(month, unreadable_month.get(
                    match["ods"], month))
            result.quarantine.append(QuarantinedRow(
                SOURCE, path.name, None, f"file cannot be read ({type(exc).__name__})"))
            result.files.append(FileAccount(path.name, status="rejected"))

    by_practice: dict[str, list[_File]] = {}
    rows: list[dict[str, Any]] = []
    replaced: list[str] = []
    unchanged, rejected = 0, unreadable

    def reject(f: _File, reason: str) -> None:
        nonlocal rejected
        rejected += 1
        result.quarantine.append(QuarantinedRow(SOURCE, f.name, None, reason))
        result.files.append(FileAccount(f.name, status="rejected"))
        _copy_to_quarantine(landing_dir, extract_date, f.path)

    def skip(f: _File, status: Literal["unchanged", "superseded"] = "unchanged") -> None:
        result.files.append(FileAccount(f.name, status=status))

    def stage(ods: str, f: _File, parsed: tuple) -> None:
        good, bad, raw_header = parsed
        rows.extend(good)
        result.quarantine.extend(q for q, _ in bad)
        result.files.append(FileAccount(f.name, rows_read=len(good) + len(bad),
                                        rows_staged=len(good), rows_quarantined=len(bad)))
        if bad:
            _write_quarantined_rows(landing_dir, extract_date, f.name, raw_header, bad)
        replaced.append(ods)
        staged_from[ods] = f.name

    def fall_back(ods: str, older: list[_File]) -> _File | None:
        """The newest older file that can be read, for a practice with no register yet."""
        if has_register(ods):
            return None
        for f in reversed(older):
            parsed = _read_register(f, extract_date)
            if not isinstance(parsed, str):
                stage(ods, f, parsed)
                return f
        return None

    for f in files:
        match = FILE_NAME.match(f.name)
        if match is None:
            if seen.get(f.name) == f.sha256:
                skip(f)  # rejected on an earlier night and not touched since
            else:
                reject(f, "file name not <practice_ods>_<YYYYMM>.csv")
            seen[f.name] = f.sha256
            continue
        f.ods = match["ods"]
        f.month = date(int(match["year"]), int(match["month"]), 1)
        if f.month > this_month:
            continue  # the future, for a backfilled night: not examined, not remembered
        by_practice.setdefault(f.ods, []).append(f)

    for ods in sorted(by_practice):
        practice_files = sorted(by_practice[ods], key=lambda f: f.month or date.min)
        newest = practice_files[-1]
        if ods in unreadable_month and unreadable_month[ods] >= (newest.month or date.min):
            used = fall_back(ods, practice_files)
            for f in practice_files:
                if f is not used:
                    skip(f)  # not remembered either: all are looked at again tomorrow
            continue
        used = None
        previous = seen.get(newest.name)
        if ods not in known:
            # Remembered as rejected for this reason, so it is not quarantined again every
            # night, and read as soon as the practice joins the list (no re-send needed).
            if previous == newest.sha256 + NOT_LISTED:
                unchanged += 1
                skip(newest)
            else:
                reject(newest, f"practice {ods} not in the practice list")
                seen[newest.name] = newest.sha256 + NOT_LISTED
        elif previous == newest.sha256:
            unchanged += 1
            skip(newest)
        else:
            seen[newest.name] = newest.sha256
            parsed = _read_register(newest, extract_date)
            if isinstance(parsed, str):
                reject(newest, parsed)
                used = fall_back(ods, practice_files[:-1])
            else:
                stage(ods, newest, parsed)
        for older in practice_files[:-1]:
            if older is not used:
                skip(older, "superseded")  # by the newest month: not staged
            seen[older.name] = older.sha256

    result.tables[GP_REGISTER_ENTRY.name] = staged_frame(GP_REGISTER_ENTRY, rows)
    result.state = {"files": seen, "practices_replaced": sorted(replaced),
                    "registers": staged_from}
    quarantined_rows = sum(1 for q in result.quarantine if q.row_number is not None)
    whole = [f"{q.file} ({q.reason})" for q in result.quarantine if q.row_number is None]
    result.message = (
        f"{len(replaced)} practice registers new or changed ({unchanged} unchanged); "
        f"{rejected} file{'s' if rejected != 1 else ''} quarantined"
        + (f": {'; '.join(whole[:5])}{'; …' if len(whole) > 5 else ''}" if whole else "")
        + (f"; {quarantined_rows} rows quarantined" if quarantined_rows else "")
    )
    log.info("gp: %s", result.message)
    return result


# --- one file --------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _layout(header: list[str]) -> str | None:
    names = [h.strip() for h in header]
    if set(names) == set(EMIS_COLUMNS) and len(names) == len(EMIS_COLUMNS):
        return EMIS
    if set(names) == set(SYSTMONE_COLUMNS) and len(names) == len(SYSTMONE_COLUMNS):
        return SYSTMONE
    return None


def _layout_mismatch(header: list[str]) -> str:
    """Why a header is neither layout: the nearer layout's missing, unexpected or repeated
    columns when it is plainly that layout gone wrong, else "unknown layout"."""
    names = [h.strip() for h in header]
    best = max(((EMIS, EMIS_COLUMNS), (SYSTMONE, SYSTMONE_COLUMNS)),
               key=lambda lay: len(set(names) & set(lay[1])))
    layout, columns = best
    if len(set(names) & set(columns)) * 2 <= len(columns):
        return "unknown layout: header matches neither EMIS Web nor SystmOne"
    problems = []
    if missing := [c for c in columns if c not in names]:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra := [c for c in names if c not in columns]:
        problems.append(f"unexpected column(s) {', '.join(extra)}")
    if repeated := sorted({c for c in names if names.count(c) > 1}):
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    return f"{layout} layout with {'; '.join(problems)}"


def _read_register(
    f: _File, extract_date: date
) -> str | tuple[list[dict[str, Any]], list[tuple[QuarantinedRow, list[str]]], list[str]]:
    """(staged rows, quarantined (entry, raw row) pairs, raw header), or a whole-file reason."""
    try:
        text = utf8_text(f.path.read_bytes())
    except NotUtf8 as exc:
        return str(exc)
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        parsed = _parse_register(records, f, extract_date)
    except csv.Error as exc:  # a run-away quoted field past the csv module's field limit
        return (f"unreadable CSV after line {records.line_num} ({exc}; an unclosed quote?); "
                "the practice keeps its previous register")
    if isinstance(parsed, str):
        return parsed
    good, bad, _ = parsed
    if not good and not bad:
        # A header and nothing else is a register search that failed or was cut short, not
        # a practice whose carers all stopped caring overnight: staged, it would empty the
        # practice's register (every carer gone from the warehouse, no stale flag left) with
        # no row quarantined and no volume check to notice, since GP files are incremental.
        return ("header but no data rows: a register search that returned nobody; the "
                "practice keeps its previous register")
    if bad and not good:
        # Every row bad is the file's fault (a changed date format, a shifted column), not
        # a register with nobody on it: it must not empty the practice's register.
        first = bad[0][0]
        return (f"every one of its {len(bad)} rows would be quarantined (row "
                f"{first.row_number}: {first.reason}); the practice keeps its previous "
                "register")
    return parsed


def _parse_register(
    records: Any, f: _File, extract_date: date
) -> str | tuple[list[dict[str, Any]], list[tuple[QuarantinedRow, list[str]]], list[str]]:
    header = next(records, None)
    if not header or not any(h.strip() for h in header):
        return "empty file: no header row"
    layout = _layout(header)
    if layout is None:
        return _layout_mismatch(header)
    names = [h.strip() for h in header]
    assert f.ods is not None and f.month is not None

    good: list[dict[str, Any]] = []
    bad: list[tuple[QuarantinedRow, list[str]]] = []
    nhs_at = names.index(_LAYOUT_MAP[layout]["nhs_number"])  # type: ignore[arg-type]
    rows_of: dict[str, int] = {}  # the patient's rows so far, quarantined ones included
    k = 0
    line = records.line_num  # physical lines read so far
    for record in records:
        k += 1  # k counts every data record so that it matches the file
        if any("\n" in v or "\r" in v for v in record):
            # No register field holds a line break: this is an unclosed quote, and every
            # row up to the next quote went into one field. Loading the rest would shrink
            # the practice's register without a word, so the file is unusable as a whole.
            return (f"row {k} (line {line + 1}): a quoted field runs over several lines (an "
                    "unclosed quote?), so the rows after it cannot be read; the practice "
                    "keeps its previous register")
        line = records.line_num
        if not record or all(not v.strip() for v in record):
            k -= 1  # a blank line is not a row
            continue
        digits = nhs_digits(record[nhs_at]) if nhs_at < len(record) else None
        if digits:
            rows_of[digits] = rows_of.get(digits, 0) + 1
        try:
            if len(record) != len(names):
                raise _RowFault(f"row {k}: {len(record)} fields, header has {len(names)}")
            mapped = _map_row(dict(zip(names, record, strict=True)), layout, k)
        except _RowFault as fault:
            bad.append((QuarantinedRow(SOURCE, f.name, k, str(fault)), record))
            continue
        mapped.update(
            practice_ods=f.ods, snapshot_month=f.month, layout=layout, entry_number=k,
            patient_row=rows_of.get(digits) if digits else None,
            extract_date=extract_date, source_file=f.name, source_row=k,
        )
        good.append(mapped)
    return good, bad, header


def _map_row(raw: dict[str, str], layout: str, k: int) -> dict[str, Any]:
    mapping = _LAYOUT_MAP[layout]

    def value(field: str) -> str | None:
        column = mapping[field]
        return clean_text(raw.get(column)) if column else None

    nhs, nhs_valid = normalise_nhs_number(value("nhs_number"))
    if nhs is None:
        raise _RowFault(f"row {k}: no NHS number: the register entry cannot be keyed")
    parse = parse_date_emis if layout == EMIS else parse_date_iso
    dates: dict[str, date | None] = {}
    for field in _DATE_FIELDS:
        try:
            dates[field] = parse(value(field))
        except DateFormatError:
            raise _RowFault(
                f"row {k}: bad date in {mapping[field]} (expected {_DATE_FORMAT[layout]})"
            ) from None
    cared_nhs, cared_valid = normalise_nhs_number(value("cared_for_nhs_number"))
    postcode = normalise_postcode(value("postcode"))
    return {
        "nhs_number": nhs,
        "nhs_number_valid": nhs_valid,
        "title": value("title"),
        "first_name": value("first_name"),
        "last_name": value("last_name"),
        "date_of_birth": dates["date_of_birth"],
        "sex": normalise_sex(value("sex")),
        "postcode": postcode,
        "postcode_valid": is_valid_postcode(postcode),
        "carer_code": value("carer_code"),
        "carer_code_term": value("carer_code_term"),
        "date_recorded": dates["date_recorded"],
        "last_review_date": dates["last_review_date"],
        "no_longer_carer_date": dates["no_longer_carer_date"],
        "cared_for_nhs_number": cared_nhs,
        "cared_for_nhs_number_valid": cared_valid,
        "cared_for_name": value("cared_for_name"),
        "cared_for_first_name": value("cared_for_first_name"),
        "cared_for_last_name": value("cared_for_last_name"),
        "cared_for_date_of_birth": dates["cared_for_date_of_birth"],
    }


# --- output ----------------------------------------------------------------------------------


def _copy_to_quarantine(landing_dir: Path, extract_date: date, path: Path) -> None:
    """The whole file, byte for byte, to the restricted quarantine folder."""
    target = quarantine_folder(landing_dir, SOURCE, extract_date) / path.name
    shutil.copyfile(path, target)
    restrict(target)


def _write_quarantined_rows(
    landing_dir: Path, extract_date: date, name: str, header: list[str],
    bad: list[tuple[QuarantinedRow, list[str]]],
) -> None:
    """The quarantined rows as delivered, with their row number and reason appended."""
    target = quarantine_folder(landing_dir, SOURCE, extract_date) / name
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*(h.strip() for h in header), "_row_number", "_reason"])
        for q, record in bad:
            writer.writerow([*record, q.row_number, q.reason])
    restrict(target)
