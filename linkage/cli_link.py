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
from linkage.records import RECORD_COLUMNS, make_record

KNOWN_COLUMNS = ("record_id", "source", "nhs_number", "first_name", "last_name",
                 "date_of_birth", "sex", "postcode", "address")


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
            dob = None
            try:
                parsed = parse_date_flexible(row.get("date_of_birth"))
                dob = parsed.isoformat() if parsed else None
            except (DateFormatError, ValueError):
                summary.problems.append(
                    f"{path.name} line {line}: date_of_birth not YYYY-MM-DD or DD/MM/YYYY; "
                    "used as not recorded")
            rows.append({**row, "record_id": record_id, "source": source,
                         "date_of_birth": dob, "_line": line})
    except csv.Error as exc:
        raise LinkInputError(f"{path}: not a readable CSV ({exc})") from exc
    return rows


def link_csv_files(inputs: list[Path], out: Path, *, pairs: Path | None = None,
                   model: Path | None = None) -> LinkSummary:
    """Link the inputs and write CLUSTERS.csv (and PAIRS.csv when asked)."""
    summary = LinkSummary(files=len(inputs))
    rows: list[dict] = []
    for path in inputs:
        rows.extend(_read(Path(path), summary))
    ids = [f"r{n}" for n in range(len(rows))]
    records = pd.DataFrame([
        make_record(uid, "csv", "person", first=r.get("first_name"), last=r.get("last_name"),
                dob=r.get("date_of_birth"), nhs=r.get("nhs_number"),
                postcode=r.get("postcode"), address=r.get("address"), sex=r.get("sex"))
        for uid, r in zip(ids, rows, strict=True)], columns=RECORD_COLUMNS)
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
    if len(records) >= 2:
        result = cluster_records(records, settings, threshold, forced=[], cannot={})
        cluster_of = dict(zip(result.clusters["source_record_key"],
                              result.clusters["cluster_id"], strict=True))
        linked = result.pairs
    else:
        cluster_of, linked = {uid: uid for uid in ids}, pd.DataFrame()
    person_of: dict[str, str] = {}
    out_rows = []
    for uid, r in zip(ids, rows, strict=True):
        cid = cluster_of.get(uid, uid)
        person_of.setdefault(cid, f"P{len(person_of) + 1:06d}")
        out_rows.append({"source": r["source"], "record_id": r["record_id"],
                         "person_id": person_of[cid]})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out_rows, columns=["source", "record_id", "person_id"]).to_csv(out, index=False)
    summary.records, summary.persons = len(out_rows), len(person_of)
    summary.pairs_linked = len(linked)
    if pairs is not None:
        by_id = dict(zip(ids, rows, strict=True))
        pair_rows = [{
            "source_l": by_id[a]["source"], "record_id_l": by_id[a]["record_id"],
            "source_r": by_id[b]["source"], "record_id_r": by_id[b]["record_id"],
            "match_probability": p, "match_weight": w}
            for a, b, p, w in zip(linked.get("unique_id_l", []), linked.get("unique_id_r", []),
                                  linked.get("match_probability", []),
                                  linked.get("match_weight", []), strict=True)]
        Path(pairs).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(pair_rows, columns=["source_l", "record_id_l", "source_r", "record_id_r",
                                         "match_probability", "match_weight"]
                     ).to_csv(pairs, index=False)
    return summary
