"""`carelink link`: deduplicate and link person records from CSV files (docs: command-line).

The same records shape, model and clustering as the nightly pipeline, so a benchmark of this
command measures what the pipeline does. No opt-out or source-specific rules apply here: the
files carry no information-sharing choice and no household structure.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carelink.identity import DateFormatError, clean_text, parse_date_flexible
from linkage.clusters import cluster_records, predict_pairs
from linkage.model import SMALL_INPUT, fit, load_model, model_threshold
from linkage.records import RECORD_COLUMNS, correct_swapped_names, make_record

KNOWN_COLUMNS = ("record_id", "source", "nhs_number", "first_name", "last_name",
                 "date_of_birth", "sex", "postcode", "address")


_BAD_DATE = object()  # a date_of_birth that is neither YYYY-MM-DD nor DD/MM/YYYY
_EXTRA = "\x00extra"  # where csv.DictReader puts a row's values beyond the header's
# make_record keyword -> (input column, the record columns it alone determines)
_FIELDS = {
    "first": ("first_name", ("first_name", "first_name_alt")),
    "last": ("last_name", ("last_name",)),
    "dob": ("date_of_birth", ("date_of_birth",)),
    "nhs": ("nhs_number", ("nhs_number",)),
    "postcode": ("postcode", ("postcode", "postcode_guessed", "postcode_sector",
                              "postcode_district")),
    "address": ("address", ("address",)),
    "sex": ("sex", ("sex",)),
}


class LinkInputError(Exception):
    """An input the command cannot use at all: the message names the file and the problem."""


@dataclass
class LinkSummary:
    files: int = 0
    records: int = 0
    persons: int = 0
    pairs_linked: int = 0
    model: str = ""
    threshold: float = 0.0
    problems: list[str] = field(default_factory=list)  # "file line N: why"

    def lines(self) -> list[str]:
        out = [f"linked {self.records} records from {self.files} file(s) into "
               f"{self.persons} persons ({self.pairs_linked} pairs linked; model {self.model}, "
               f"threshold {self.threshold})"]
        if self.problems:
            out.append(f"{len(self.problems)} row(s) left out or partly used:")
            out.extend("  " + p for p in self.problems)
        return out


def _read(path: Path, summary: LinkSummary,
          seen: dict[tuple[str, str], str] | None = None) -> list[dict]:
    """Rows of one input with their line numbers; raises LinkInputError for the whole file.

    `seen` maps (source, record_id) to where it was first read, across every input: two
    files of one name in different folders share a default source, and their rows must not
    come out as the same output key.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise LinkInputError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise LinkInputError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise LinkInputError(f"{path}: cannot be read ({exc.strerror})") from exc
    reader = csv.DictReader(io.StringIO(text), restkey=_EXTRA)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise LinkInputError(f"{path}: not a readable CSV ({exc})") from exc
    if not header:
        raise LinkInputError(f"{path}: empty file, no header")
    if "record_id" not in header:
        raise LinkInputError(f"{path}: no record_id column (header: {', '.join(header)})")
    reader.fieldnames = header
    seen = {} if seen is None else seen
    rows: list[dict] = []
    ids_here: set[str] = set()
    dates: dict[str | None, object] = {}  # each distinct date text parsed once
    default_source = path.stem
    problems = summary.problems
    last_line = 1
    try:
        for row in reader:
            first_line, line = last_line + 1, reader.line_num
            last_line = line
            multiline = line > first_line and any(isinstance(v, str) and "\n" in v
                                                  for v in row.values())
            where = f"{path} lines {first_line}-{line}" if multiline else f"{path} line {line}"
            raw_id = row.get("record_id")
            # the id is the caller's key: kept exactly as written, bar surrounding spaces
            record_id = raw_id.strip() if isinstance(raw_id, str) else ""
            if not record_id:
                problems.append(f"{where}: empty record_id; left out")
                continue
            if record_id in ids_here:
                problems.append(f"{where}: record_id {record_id!r} repeats an earlier row "
                                "of this file; left out")
                continue
            ids_here.add(record_id)
            source = clean_text(row.get("source")) or default_source
            if (source, record_id) in seen:
                problems.append(f"{where}: source {source!r} record_id {record_id!r} was "
                                f"already read from {seen[(source, record_id)]}; left out")
                continue
            seen[(source, record_id)] = where
            if row.get(_EXTRA):
                problems.append(f"{where}: {len(header) + len(row[_EXTRA])} fields where "
                                f"the header has {len(header)}; the extra values ignored")
            elif any(v is None for v in row.values()):
                problems.append(f"{where}: fewer fields than the header's {len(header)}; "
                                "the missing ones used as not recorded")
            if multiline:
                problems.append(f"{where}: a quoted field runs over several lines (an "
                                "unclosed quote?); used as read")
            raw_dob = row.get("date_of_birth")
            if raw_dob not in dates:
                try:
                    parsed = parse_date_flexible(raw_dob)
                    dates[raw_dob] = parsed.isoformat() if parsed else None
                except (DateFormatError, ValueError):
                    dates[raw_dob] = _BAD_DATE
            dob = dates[raw_dob]
            if dob is _BAD_DATE:
                dob = None
                problems.append(f"{where}: date_of_birth not YYYY-MM-DD or DD/MM/YYYY; "
                                "used as not recorded")
            sex = (row.get("sex") or "").strip().upper()
            row.update(record_id=record_id, source=source, date_of_birth=dob,
                       sex=sex if sex in ("F", "M") else None, _line=line)
            rows.append(row)  # DictReader makes a new dict per row: no copy needed
    except csv.Error as exc:
        raise LinkInputError(f"{path}: not a readable CSV ({exc})") from exc
    return rows


def _records(ids: list[str], rows: list[dict]) -> pd.DataFrame:
    """Canonical records (`make_record`) of the rows, each distinct value of a field
    normalised once.

    `make_record` derives each record column from one input field (see _FIELDS), and names,
    dates, postcodes and streets repeat: a million rows hold a few hundred thousand distinct
    values, so normalising values rather than rows takes a fraction of the time.
    """
    blank = dict.fromkeys(_FIELDS)
    base = make_record("", "csv", "person", **blank)
    frame = pd.DataFrame({c: [base[c]] * len(rows) for c in RECORD_COLUMNS}, columns=RECORD_COLUMNS)
    frame["source_record_key"] = ids
    for kw, (column, outputs) in _FIELDS.items():
        raw = [r.get(column) for r in rows]
        done = {v: make_record("", "csv", "person", **{**blank, kw: v}) for v in set(raw)}
        for out in outputs:
            frame[out] = [done[v][out] for v in raw]
    return correct_swapped_names(frame)


def _check_writable(path: Path | None) -> None:
    """Fail before the work, not after it, when an output cannot be written."""
    if path is None:
        return
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with path.open("a", encoding="utf-8"):
            pass
        if not existed:  # the check must not leave an empty output behind if the run stops
            path.unlink()
    except OSError as exc:
        raise LinkInputError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


def _load_usable_model(path: Path) -> tuple[dict, dict]:
    """A saved model's settings and metadata, or LinkInputError naming what is wrong."""
    try:
        settings, meta = load_model(path)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise LinkInputError(f"{path}: not a readable model file ({exc})") from exc
    comparisons = settings.get("comparisons") if isinstance(settings, dict) else None
    if not comparisons or not isinstance(comparisons, list) or not all(
            isinstance(c, dict) and c.get("comparison_levels") for c in comparisons):
        raise LinkInputError(f"{path}: not a linkage model (no comparisons with levels)")
    try:
        model_threshold(meta)
    except (TypeError, ValueError, AttributeError) as exc:
        raise LinkInputError(f"{path}: the model's threshold is not a number") from exc
    return settings, meta


def read_inputs(inputs: list[Path], summary: LinkSummary) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(canonical records keyed r0, r1, …; their source and record_id by the same keys) from
    the input CSVs, problems noted in `summary`."""
    rows: list[dict] = []
    seen: dict[tuple[str, str], str] = {}
    for path in inputs:
        rows.extend(_read(Path(path), summary, seen))
    ids = [f"r{n}" for n in range(len(rows))]
    written = pd.DataFrame({"source": [r["source"] for r in rows],
                            "record_id": [r["record_id"] for r in rows]}, index=ids)
    # a million raw rows are gigabytes: only the records and these two columns outlive them
    return _records(ids, rows), written


def link_csv_files(inputs: list[Path], out: Path, *, pairs: Path | None = None,
                   model: Path | None = None) -> LinkSummary:
    """Link the inputs and write CLUSTERS.csv (and PAIRS.csv when asked)."""
    summary = LinkSummary(files=len(inputs))
    records, written = read_inputs(inputs, summary)
    ids = written.index.tolist()
    for target in (out, pairs):
        _check_writable(target)
    if model is not None:
        settings, meta = _load_usable_model(Path(model))
        summary.model = Path(model).name
    else:
        settings, meta = (fit(records) if len(records) >= 2 else {}), {}
        summary.model = (
            "estimated from the input (unsupervised)" if len(records) >= SMALL_INPUT else
            f"built-in prior: {len(records)} records are too few to estimate m and u, "
            "so only the match rate is estimated from them")
    threshold = model_threshold(meta)
    summary.threshold = threshold
    cluster = pd.Series(ids, index=ids, dtype=object)
    above = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability",
                                  "match_weight"])
    if len(records) >= 2:
        try:
            scored, n_scored = predict_pairs(records, settings, threshold)
        except Exception as exc:
            if model is None:
                raise
            # The engine's text is left out: a conversion error can quote a record's value.
            raise LinkInputError(
                f"{model}: the model cannot score these records ({type(exc).__name__}: its "
                "comparisons expect columns or values that carelink's person records do not "
                "have; use a model carelink trained, or leave out --model)") from None
        result = cluster_records(records, settings, threshold, forced=[], cannot={},
                                 scored=(scored, n_scored))
        found = result.clusters.set_index("source_record_key")["cluster_id"]
        cluster = found.reindex(ids).fillna(cluster)
        summary.pairs_linked = len(result.pairs)
        # The contract's pairs are the model's: every scored pair at or above the threshold.
        # Clustering then applies the guards (a first-name veto, dates of birth years apart,
        # a record between two people), so a pair here may end in two persons; and a shared
        # valid NHS number links below the threshold without being listed.
        above = scored[scored["match_probability"] >= threshold]
    # persons numbered in input order of their first record
    codes, persons = pd.factorize(cluster)
    written["person_id"] = [f"P{c + 1:06d}" for c in codes]
    written.to_csv(out, index=False)
    summary.records, summary.persons = len(written), len(persons)
    if pairs is not None:
        left = written.loc[above["unique_id_l"]]
        right = written.loc[above["unique_id_r"]]
        pd.DataFrame({"source_l": left["source"].to_numpy(),
                      "record_id_l": left["record_id"].to_numpy(),
                      "source_r": right["source"].to_numpy(),
                      "record_id_r": right["record_id"].to_numpy(),
                      "match_probability": above["match_probability"].to_numpy(),
                      "match_weight": above["match_weight"].to_numpy()}).to_csv(pairs,
                                                                                index=False)
    return summary
