"""What one source's extract for one night produced, in a form that can be handed from task
to task (saved to and loaded from a folder of Parquet files plus a JSON summary).

Row accounting lives here: for every file, rows read = rows staged + rows quarantined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from carelink.errors import SourceError
from sources.tables import TABLES_BY_NAME, StagedTable

__all__ = ["ExtractStatus", "FileAccount", "QuarantinedRow", "SourceError", "SourceExtract",
           "staged_frame"]

ExtractStatus = Literal["extracted", "absent", "rejected"]


@dataclass(frozen=True)
class QuarantinedRow:
    """One row or whole file not loaded. No row content: the raw row is kept in the landing
    area's restricted quarantine folder beside its file."""

    source: str
    file: str
    row_number: int | None  # 1-based data row; None for a whole file
    reason: str


@dataclass
class FileAccount:
    file: str
    rows_read: int = 0
    rows_staged: int = 0
    rows_quarantined: int = 0
    status: Literal["staged", "rejected", "unchanged", "superseded"] = "staged"

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_staged + self.rows_quarantined


@dataclass
class SourceExtract:
    source: Literal["provider", "las", "gp"]
    extract_date: date
    status: ExtractStatus
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[FileAccount] = field(default_factory=list)
    quarantine: list[QuarantinedRow] = field(default_factory=list)
    message: str = ""
    # Source-specific bookkeeping the pipeline commits only when the night succeeds:
    # provider {"snapshot_date"}, las {"high_water_mark", "merges_applied"},
    # gp {"files": {name: sha256}, "practices_replaced": [...], "registers": {ods: file}}.
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_staged(self) -> int:
        return sum(len(df) for df in self.tables.values())

    def accounting_lines(self) -> list[str]:
        """Human-readable row accounting, one line per file."""
        lines = []
        for f in self.files:
            mark = "ok" if f.balanced else "UNBALANCED"
            lines.append(
                f"{self.source:8} {f.file:40} read {f.rows_read:>7}  staged {f.rows_staged:>7}"
                f"  quarantined {f.rows_quarantined:>5}  [{f.status}, {mark}]"
            )
        return lines

    # --- hand-over between tasks -----------------------------------------------------------

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
        for name, df in self.tables.items():
            df.to_parquet(folder / f"{name}.parquet", index=False)
        summary = {
            "source": self.source,
            "extract_date": self.extract_date.isoformat(),
            "status": self.status,
            "message": self.message,
            "files": [asdict(f) for f in self.files],
            "quarantine": [asdict(q) for q in self.quarantine],
            "state": self.state,
            "tables": sorted(self.tables),
        }
        (folder / "extract.json").write_text(json.dumps(summary, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path) -> SourceExtract:
        summary = json.loads((folder / "extract.json").read_text())
        tables = {}
        for name in summary["tables"]:
            df = pd.read_parquet(folder / f"{name}.parquet")
            spec = TABLES_BY_NAME.get(name)
            if spec is not None:
                df = df[[c for c in spec.column_names if c in df.columns]]
            tables[name] = df
        return cls(
            source=summary["source"],
            extract_date=date.fromisoformat(summary["extract_date"]),
            status=summary["status"],
            tables=tables,
            files=[FileAccount(**f) for f in summary["files"]],
            quarantine=[QuarantinedRow(**q) for q in summary["quarantine"]],
            message=summary["message"],
            state=summary["state"],
        )


def staged_frame(table: StagedTable, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame in the contract's column order with nullable types that survive Parquet."""
    df = pd.DataFrame(list(rows), columns=table.column_names)
    for col in table.columns:
        if col.type == "integer":
            df[col.name] = df[col.name].astype("Int64")
        elif col.type == "boolean":
            df[col.name] = df[col.name].astype("boolean")
        elif col.type == "numeric":
            df[col.name] = pd.to_numeric(df[col.name]).astype("float64")
        elif col.type == "timestamp":
            df[col.name] = pd.to_datetime(df[col.name])
        elif col.type == "date":
            df[col.name] = df[col.name].astype("object")
    return df
