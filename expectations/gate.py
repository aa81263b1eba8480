"""The per-source quality gate: every staged table of one source's extract against its suite.

A critical failure blocks the source for the night (the caller keeps yesterday's data); the
outcomes of every expectation go to `dq.validation_results` either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from expectations.runner import (
    DataDocs,
    ExpectationOutcome,
    OutcomeChecks,
    add_derived,
    outcomes_frame,
    run_specs,
    write_docs,
)
from expectations.suites import SuiteContext, suites_for_source


@dataclass
class GateResult(OutcomeChecks):
    source: str
    run_id: str
    extract_date: date
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_path: Path | None = None

    @property
    def blocked(self) -> bool:
        return bool(self.critical_failures)

    def results_frame(self) -> pd.DataFrame:
        """Rows for dq.validation_results (run_date = the extract date: runs are keyed by the
        night they process, never by the clock)."""
        return outcomes_frame(self.outcomes, run_id=self.run_id, run_date=self.extract_date,
                              source=self.source)


def validate_source(tables: dict[str, pd.DataFrame], source: str, *, extract_date: date,
                    run_id: str, history: dict[str, list[int]] | None = None,
                    docs_dir: Path | None = None) -> GateResult:
    """Validate one source's staged tables. A table missing from `tables` is validated as an
    empty frame with no columns, so it fails its schema expectations (critical)."""
    history = history or {}
    ctx = SuiteContext(extract_date=extract_date, tables=tables, history=history)
    result = GateResult(source=source, run_id=run_id, extract_date=extract_date)
    docs = DataDocs(run_id, extract_date) if docs_dir is not None else None
    for table, suite in suites_for_source(source, ctx):
        df = tables.get(table.name)
        if df is None:
            df = pd.DataFrame()
        frame = add_derived(df, suite.derived, ctx)
        result.outcomes.extend(run_specs(frame, suite.name, suite.specs, docs))
    if docs_dir is not None:
        result.docs_path = write_docs(
            Path(docs_dir) / f"{source}.html", f"Quality gate: {source}", result.outcomes,
            f"extract {extract_date.isoformat()}, run {run_id}; "
            f"{'BLOCKED' if result.blocked else 'not blocked'}", docs)
    return result
