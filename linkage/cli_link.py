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
from linkage.clusters import cluster_records
from linkage.model import fit, load_model, model_threshold
from linkage.records import RECORD_COLUMNS, correct_swapped_names, make_record

KNOWN_COLUMNS = ("record_id", "source", "nhs_number", "first_name", "last_name",
                 "date_of_birth", "sex", "postcode", "address")


_BAD_DATE = object()  # a date_of_birth that is neither YYYY-MM-DD nor DD/MM/YYYY
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


def _read(path: Path, summary: LinkSummary) -> list[dict]:
    """Rows of one input with their line numbers; raises LinkInputError for the whole file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise LinkInputError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise LinkInputError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise LinkInputError(f"{path}: cannot be read ({exc.strerror})") from exc
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise LinkInputError(f"{path}: not a readable CSV ({exc})") from exc
    if not header:
        raise LinkInputError(f"{path}: empty file, no header")
    if "record_id" not in header:
        raise LinkInputError(f"{path}: no record_id column (header: {', '.join(header)})")
    reader.fieldnames = header
    rows, seen = [], set()
    dates: dict[str | None, object] = {}  # each distinct date text parsed once
    default_source = path.stem
    try:
        for row in reader:
            line = reader.line_num
            record_id = clean_text(row.get("record_id"))
            if record_id is None:
                summary.problems.append(f"{path.name} line {line}: empty record_id; left out")
                continue
            source = clean_text(row.get("source")) or default_source
            if (source, record_id) in seen:
                summary.problems.append(
                    f"{path.name} line {line}: duplicate record_id; left out")
                continue
            seen.add((source, record_id))
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
                summary.problems.append(
                    f"{path.name} line {line}: date_of_birth not YYYY-MM-DD or DD/MM/YYYY; "
                    "used as not recorded")
            row.update(record_id=record_id, source=source, date_of_birth=dob, _line=line)
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


def link_csv_files(inputs: list[Path], out: Path, *, pairs: Path | None = None,
                   model: Path | None = None) -> LinkSummary:
    """Link the inputs and write CLUSTERS.csv (and PAIRS.csv when asked)."""
    summary = LinkSummary(files=len(inputs))
    rows: list[dict] = []
    for path in inputs:
        rows.extend(_read(Path(path), summary))
    ids = [f"r{n}" for n in range(len(rows))]
    records = _records(ids, rows)
    written = pd.DataFrame({"source": [r["source"] for r in rows],
                            "record_id": [r["record_id"] for r in rows]}, index=ids)
    del rows  # a million raw rows are gigabytes, and only these two columns are needed again
    if model is not None:
        try:
            settings, meta = load_model(Path(model))
        except (OSError, ValueError) as exc:
            raise LinkInputError(f"{model}: not a readable model file ({exc})") from exc
        summary.model = Path(model).name
    else:
        settings, meta = (fit(records) if len(records) >= 2 else {}), {}
        summary.model = "estimated from the input (unsupervised)"
    threshold = model_threshold(meta)
    summary.threshold = threshold
    cluster = pd.Series(ids, index=ids, dtype=object)
    linked = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability",
                                   "match_weight"])
    if len(records) >= 2:
        result = cluster_records(records, settings, threshold, forced=[], cannot={})
        found = result.clusters.set_index("source_record_key")["cluster_id"]
        cluster = found.reindex(ids).fillna(cluster)
        linked = result.pairs if len(result.pairs) else linked
    # persons numbered in input order of their first record
    codes, persons = pd.factorize(cluster)
    written["person_id"] = [f"P{c + 1:06d}" for c in codes]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    written.to_csv(out, index=False)
    summary.records, summary.persons = len(written), len(persons)
    summary.pairs_linked = len(linked)
    if pairs is not None:
        left = written.loc[linked["unique_id_l"]]
        right = written.loc[linked["unique_id_r"]]
        Path(pairs).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"source_l": left["source"].to_numpy(),
                      "record_id_l": left["record_id"].to_numpy(),
                      "source_r": right["source"].to_numpy(),
                      "record_id_r": right["record_id"].to_numpy(),
                      "match_probability": linked["match_probability"].to_numpy(),
                      "match_weight": linked["match_weight"].to_numpy()}).to_csv(pairs,
                                                                                 index=False)
    return summary
