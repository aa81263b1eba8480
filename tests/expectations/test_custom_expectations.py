"""Rules GX has no built-in for are custom expectation classes in expectations/custom.py,
imported before any context is created, and never by a DAG file (the issue; stack notes: a
context that loads a suite whose custom classes were not imported first drops them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from exp_frames import NIGHT, clean_gp, clean_las, clean_provider

from expectations.suites import SuiteContext, build_suite
from sources import tables as t

REPO = Path(__file__).resolve().parents[2]


def test_derived_rules_use_the_custom_classes() -> None:
    import expectations.custom as custom

    tables = {**clean_provider(), **clean_las(), **clean_gp()}
    ctx = SuiteContext(extract_date=NIGHT, tables=tables)
    derived_specs = [spec for tables_ in t.TABLES_BY_SOURCE.values() for table in tables_
                     for spec in build_suite(table, ctx).specs
                     if str(spec.kwargs.get("column", "")).startswith("_")
                     and spec.expectation != "ExpectColumnValuesToBeBetween"]
    assert len(derived_specs) > 15
    for spec in derived_specs:
        assert spec.expectation in custom.CUSTOM_EXPECTATIONS, spec.name


def test_custom_classes_are_imported_before_the_context_and_only_then() -> None:
    code = (
        "import sys\n"
        "import expectations.runner as runner, expectations.suites, expectations.nightly\n"
        "assert 'great_expectations' not in sys.modules\n"
        "assert 'expectations.custom' not in sys.modules\n"
        "runner._gx()\n"
        "assert 'expectations.custom' in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
