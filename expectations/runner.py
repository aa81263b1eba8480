"""Running `Spec` lists through Great Expectations, and the outcome records the pipeline keeps.

GX is configured once per process: an ephemeral context (nothing written to disk, no project
folder to deploy), one pandas data source whose single asset takes whatever DataFrame is
validated, progress bars off, its loggers quiet, and analytics disabled *before* the import so
that no run ever tries to phone home from a locked-down network.
"""

from __future__ import annotations

import html
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.suites import Derived, Severity, Spec, SuiteContext

RESULT_COLUMNS = ["run_id", "run_date", "source", "suite", "expectation", "severity", "success",
                  "unexpected_count", "element_count"]


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict; `details` carries extra figures (e.g. an agreement rate)."""

    suite: str
    expectation: str
    severity: Severity
    success: bool
    unexpected_count: int | None
    element_count: int | None
    column: str | None = None
    gx_type: str = ""
    doc: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class OutcomeChecks:
    """What a set of expectation outcomes says, for results holding `outcomes`."""

    outcomes: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.failures if o.severity == "critical"]


def outcomes_frame(outcomes: list[ExpectationOutcome], *, run_id: str, run_date: date,
                   source: str) -> pd.DataFrame:
    """Rows for dq.validation_results."""
    rows = [{"run_id": run_id, "run_date": run_date, "source": source, "suite": o.suite,
             "expectation": o.expectation, "severity": o.severity, "success": bool(o.success),
             "unexpected_count": o.unexpected_count, "element_count": o.element_count}
            for o in outcomes]
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    for col in ("unexpected_count", "element_count"):
        frame[col] = frame[col].astype("Int64")
    frame["success"] = frame["success"].astype(bool)
    return frame


@cache
def _gx():
    # Before great_expectations is imported (only here): no usage statistics, ever.
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations import custom  # the custom classes, before any context exists

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                         metric_calculations=False)
    asset = context.data_sources.add_pandas("carelink").add_dataframe_asset("frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    # a spec names its class: one of expectations.custom, else a GX built-in
    classes = {**vars(gxe), **custom.CUSTOM_EXPECTATIONS}
    return gx, classes, batch_definition


def add_derived(df: pd.DataFrame, derived: tuple[Derived, ...] | list[Derived],
                ctx: SuiteContext) -> pd.DataFrame:
    """A copy of `df` with every derived column whose inputs are present."""
    out = df.copy(deep=False)
    for d in derived:
        if all(c in out.columns for c in d.needs):
            out[d.column] = d.compute(out, ctx)
    return out


# BASIC counts, with no sample of the failing values: a sample would carry NHS numbers and
# postcodes into the Data Docs, which are shared unrestricted beside the nightly report.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


@dataclass
class DataDocs:
    """Great Expectations' own validation pages for one night's suites, made to open offline.

    Each suite's validation result is rendered by GX's renderer (the one its Data Docs site
    builder uses) as it is validated. Two things are changed. The remote stylesheets, scripts
    and logo the page would load from CDNs are removed, and a small inline style is added,
    so the page opens complete on a machine with no internet. The results carry counts only
    (`RESULT_FORMAT`)."""

    run_id: str
    extract_date: date
    pages: dict[str, str] = field(default_factory=dict)  # suite name → HTML

    def add(self, validation: Any) -> None:
        from datetime import datetime, time

        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.render.renderer import ValidationResultsPageRenderer
        from great_expectations.render.view import DefaultJinjaPageView

        validation.meta["run_id"] = RunIdentifier(
            run_name=self.run_id, run_time=datetime.combine(self.extract_date, time()))
        for result in validation.results:
            # GX's renderer takes Python numbers only (a numpy float observed value, as a
            # share of non-null dates comes back, fails its page section with a traceback)
            if result.result:
                result.result = _plain_tree(result.result)
        page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation))
        self.pages[validation.suite_name] = page

    def write(self, folder: Path, home: str) -> dict[str, Path]:
        """One page per suite in `folder` (emptied first: a rerun's pages replace them),
        made to open offline, its "Home" link going to `home` (relative to the folder)."""
        if folder.exists():
            for old in folder.glob("*.html"):
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for suite, page in sorted(self.pages.items()):
            out[suite] = folder / f"{suite}.html"
            out[suite].write_text(offline_page(page, home), encoding="utf-8")
        return out


_REMOTE = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^>]*>"
    r"|<script\b[^>]*>.*?</script>"
    r"|<img\b[^>]*\bsrc=[\"']https?://[^>]*>", re.DOTALL | re.IGNORECASE)
_OFFLINE_STYLE = """<style>
body{font-family:sans-serif;margin:1.5em;max-width:80em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top} th{background:#eee}
.collapse{display:block} .fa-check-circle:before{content:"passed";color:#155724}
.fa-times:before{content:"FAILED";color:#721c24;font-weight:bold}
</style>"""


# Links into the GX site this page would sit in (its index, suite pages, favicon): there is
# no such site, so the index becomes the night's summary page and the rest go.
_SITE_INDEX = re.compile(r'href="(?:\.\./)+index\.html"')
_SITE_OTHER = re.compile(r'<link\b[^>]*\bhref="(?:\.\./)+static/[^>]*>'
                         r'|href="(?:\.\./)+expectations/[^"]*"')


def offline_page(page: str, home: str = "") -> str:
    """GX's page without anything it would fetch from the internet (stylesheets, scripts,
    the logo) or run (its scripts need the jQuery it fetched), plus an inline style; its
    "Home" link goes to `home`."""
    page = _SITE_INDEX.sub(f'href="{html.escape(home)}"', _REMOTE.sub("", page))
    page = _SITE_OTHER.sub(lambda m: 'href="#"' if m.group(0).startswith("href") else "",
                           page)
    return page.replace("<head>", "<head>\n" + _OFFLINE_STYLE, 1)


def run_specs(df: pd.DataFrame, suite_name: str, specs: list[Spec] | tuple[Spec, ...],
              docs: DataDocs | None = None) -> list[ExpectationOutcome]:
    """Validate `df` against `specs` in one GX batch. Specs whose columns are absent are left
    out (the missing column is reported by its own critical expectation). With `docs`, GX's
    page of the validation is kept for the night's Data Docs.

    A spec that is meaningless on an empty table (`needs_rows`) is not given to GX on a
    night with no rows, but it still gets its outcome: passed, over 0 rows. The contract's
    dq.validation_results holds one row per expectation per run, so a quiet night of an
    incremental source records the same expectations as a busy one."""
    present = [s for s in specs if all(c in df.columns for c in s.columns)]
    vacuous = [s for s in present if len(df) == 0 and s.needs_rows]
    runnable = [s for s in present if s not in vacuous]
    out = [ExpectationOutcome(suite=suite_name, expectation=s.name, severity=s.severity,
                              success=True, unexpected_count=0, element_count=0,
                              column=s.kwargs.get("column"), gx_type=s.expectation, doc=s.doc,
                              details={"not_run": "no rows tonight"}) for s in vacuous]
    if not runnable:
        return out
    gx, classes, batch_definition = _gx()
    suite = gx.ExpectationSuite(name=suite_name)
    for i, spec in enumerate(runnable):
        cls = classes[spec.expectation]
        suite.add_expectation(cls(**_kwargs(spec, df), meta={"severity": spec.severity,
                                                              "name": spec.name, "index": i}))
    frame = df.reset_index(drop=True)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(suite, result_format=RESULT_FORMAT)
    if docs is not None:
        docs.add(validation)
    by_index = {int(r.expectation_config.meta["index"]): r for r in validation.results}
    for i, spec in enumerate(runnable):
        res = by_index[i]
        result = res.result or {}
        unexpected = result.get("unexpected_count")
        element = result.get("element_count")
        if "observed_value" in result and element is None and spec.expectation.startswith(
                "ExpectTableRowCount"):
            element = int(result["observed_value"])
        if spec.expectation == "ExpectColumnToExist":
            element, unexpected = len(frame), (0 if res.success else None)
        if element is None:
            # An aggregate expectation (e.g. the share of parseable dates) reports only an
            # observed value; the rows it looked at are the whole frame.
            element = len(frame)
        details = {}
        if "observed_value" in result:
            details["observed_value"] = _plain(result["observed_value"])
        if res.exception_info and res.exception_info.get("raised_exception"):
            details["error"] = str(res.exception_info.get("exception_message"))[:300]
        out.append(ExpectationOutcome(
            suite=suite_name, expectation=spec.name, severity=spec.severity,
            success=bool(res.success),
            unexpected_count=None if unexpected is None else int(unexpected),
            element_count=None if element is None else int(element),
            column=spec.kwargs.get("column") or spec.kwargs.get("column_A"),
            gx_type=spec.expectation, doc=spec.doc, details=details))
    return out


def _kwargs(spec: Spec, df: pd.DataFrame) -> dict[str, Any]:
    """The spec's arguments, with `mostly` loosened to tolerate its `tolerated_rows` (never
    half of the column or more: in a tiny table a fault of most rows still fails)."""
    kwargs = dict(spec.kwargs)
    column = kwargs.get("column")
    if spec.tolerated_rows and "mostly" in kwargs and column in df.columns:
        present = int(df[column].notna().sum())
        tolerated = min(spec.tolerated_rows, (present - 1) // 2)
        if tolerated > 0:
            kwargs["mostly"] = min(kwargs["mostly"], 1 - tolerated / present)
    return kwargs


def _plain_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_tree(v) for v in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    try:
        return value.item()  # numpy scalar
    except AttributeError:
        return value


def write_docs(path: Path, title: str, outcomes: list[ExpectationOutcome],
               subtitle: str = "", docs: DataDocs | None = None) -> Path:
    """A self-contained HTML page (no scripts, no external assets) listing every expectation
    with its status, so that it opens offline on a locked-down machine; with `docs`, GX's
    own page of each suite is written to a folder named after the page and linked from it.

    This page is the index of the night's Data Docs in place of GX's site builder, because
    GX 1.24's site (index and pages) loads Bootstrap, Font Awesome and Vega from jsDelivr
    and cdnjs, and a locked-down network shows a broken page. GX's validation pages are
    kept, made to open offline by `DataDocs`. Everything here is shared unrestricted beside
    the nightly report (docs/operations.md): counts and observed figures only, never a
    row's values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = docs.write(path.parent / path.stem, f"../{path.name}") if docs else {}
    links = "".join(f'<li><a href="{html.escape(f"{path.stem}/{p.name}")}">'
                    f"{html.escape(suite)}</a></li>" for suite, p in written.items())
    gx_section = (f"<h2>Great Expectations validation pages</h2><ul>{links}</ul>"
                  if links else "")
    failed_critical = sum(1 for o in outcomes if not o.success and o.severity == "critical")
    failed_warning = sum(1 for o in outcomes if not o.success and o.severity == "warning")
    rows = []
    for o in sorted(outcomes, key=lambda o: (o.success, o.severity != "critical", o.suite)):
        status = "passed" if o.success else ("FAILED" if o.severity == "critical" else "warning")
        cls = "ok" if o.success else o.severity
        details = "; ".join(f"{k}={v}" for k, v in o.details.items())
        cells = [o.suite, o.expectation, o.gx_type, o.severity, status,
                 "" if o.unexpected_count is None else str(o.unexpected_count),
                 "" if o.element_count is None else str(o.element_count), o.doc, details]
        rows.append(f'<tr class="{cls}">' + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("suite", "expectation", "GX expectation",
                                             "severity", "status", "unexpected", "elements",
                                             "why", "details"))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse;font-size:90%}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left}} th{{background:#eee}}
tr.critical td{{background:#f8d7da}} tr.warning td{{background:#fff3cd}}
tr.ok td{{background:#f4fbf4}}
</style></head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>
<p>{len(outcomes)} expectations: {failed_critical} critical failures,
{failed_warning} warnings.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>{gx_section}</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
