"""The night's load on a generated county: every contract mart filled, the analyst queries
answer, marts hold no identifiers, reruns replace, and a failure mid-load changes nothing.

The linkage outputs here are a deliberately simple stand-in (tests/support) so that the
warehouse is tested on its own; the linkage stage has its own tests.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

import warehouse
from carelink.config import Settings
from carelink.pipeline import stage_night
from expectations.nightly import check_night
from synthetic import generate_county
from tests.support.privacy import marts_identifier_findings
from tests.support.stand_in_linkage import write_linkage

NIGHT = date(2026, 11, 22)
QUERIES = Path(__file__).resolve().parents[2] / "docs" / "analyst-queries.sql"


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("county")
    generate_county(out, carers=500, seed=8, first_night=NIGHT, nights=1)
    return out


@pytest.fixture
def loaded(warehouse_url, county, tmp_path):
    url = warehouse_url
    settings = Settings.from_env({"CARELINK_DATA_DIR": str(tmp_path)},
                                 landing_dir=county / "landing", warehouse_url=url)
    stage_night(settings, NIGHT)
    engine = warehouse.make_engine(url)
    staged = warehouse.read_staging(engine)
    write_linkage(tmp_path / "linkage", staged)
    check_night(staged, tmp_path / "linkage", extract_date=NIGHT, run_id="r1",
                stale_share_threshold=0.5, out_dir=tmp_path / "checks",
                restricted_dir=tmp_path / "restricted")
    warehouse.load_night(engine, extract_date=NIGHT, run_id="r1",
                         linkage_dir=tmp_path / "linkage", checks_dir=tmp_path / "checks")
    yield engine, tmp_path
    engine.dispose()


def _snapshot(engine) -> dict[str, int]:
    tables = warehouse.query_frame(engine, "select table_schema, table_name from "
                                   "information_schema.tables where table_schema in "
                                   "('marts', 'linkage')")
    return {f"{s}.{t}": int(warehouse.query_frame(engine, f"select count(*) as n from {s}.{t}")
                            ["n"][0]) for s, t in zip(tables.iloc[:, 0], tables.iloc[:, 1],
                                                      strict=True)}


def test_contract_marts_are_filled(loaded) -> None:
    engine, _ = loaded
    counts = _snapshot(engine)
    for name in ("marts.carers_known", "marts.star_change", "marts.sustainment",
                 "marts.service_contact_in_las", "marts.care_packages", "marts.dim_person",
                 "marts.fact_star_reading", "marts.fact_gp_register_entry",
                 "marts.gp_register_staleness", "marts.star_bias_practitioner",
                 "linkage.person_xref"):
        assert counts[name] > 0, name


def test_every_analyst_query_runs(loaded) -> None:
    engine, _ = loaded
    blocks = re.split(r"^-- name: ", QUERIES.read_text(), flags=re.M)[1:]
    assert len(blocks) >= 9
    for block in blocks:
        name, _, sql = block.partition("\n")
        frame = warehouse.query_frame(engine, sql.strip().rstrip(";"))
        assert not frame.empty, name


def test_marts_hold_no_identifiers(loaded, county) -> None:
    engine, _ = loaded
    assert marts_identifier_findings(engine, county / "truth") == []


def test_rerun_replaces_and_failure_leaves_nothing(loaded, monkeypatch) -> None:
    engine, folder = loaded
    before = _snapshot(engine)
    warehouse.load_night(engine, extract_date=NIGHT, run_id="r1",
                         linkage_dir=folder / "linkage", checks_dir=folder / "checks")
    assert _snapshot(engine) == before

    import warehouse.nightly as nightly

    real = nightly.replace_rows
    calls = {"n": 0}

    def failing(conn, qualified, df, where=None):
        calls["n"] += 1
        if calls["n"] == 6:
            raise RuntimeError("injected failure mid-load")
        return real(conn, qualified, df, where)

    monkeypatch.setattr(nightly, "replace_rows", failing)
    with pytest.raises(RuntimeError, match="injected"):
        warehouse.load_night(engine, extract_date=NIGHT, run_id="r2",
                             linkage_dir=folder / "linkage", checks_dir=folder / "checks")
    assert _snapshot(engine) == before


def test_roles_hold_every_table_after_a_night(loaded) -> None:
    """The contract's read rules on PostgreSQL, table by table, after the roles were made and
    a night loaded over them: analysts read every mart and dq table and no identifier table,
    IG reads linkage and dq, and every analyst query runs as the analyst."""
    engine, folder = loaded
    if engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's; a DuckDB file is protected by file permissions")
    import sqlalchemy as sa

    from warehouse.roles import create_roles
    from warehouse.schema import SCHEMAS

    # The contract's table, written out here rather than read from the code under test.
    reads = {"carelink_etl": set(SCHEMAS), "carelink_ig": {"linkage", "dq"},
             "carelink_analyst": {"marts", "dq"}}

    create_roles(engine, {})
    warehouse.load_night(engine, extract_date=NIGHT, run_id="r2",
                         linkage_dir=folder / "linkage", checks_dir=folder / "checks")
    tables = warehouse.query_frame(
        engine, "select table_schema || '.' || table_name as t from information_schema.tables "
                "where table_schema in (" + ", ".join(f"'{s}'" for s in SCHEMAS) + ")")["t"]
    assert len(tables) > 20

    def can_read(role: str, sql: str) -> bool:
        with engine.connect() as conn:
            conn.execute(sa.text(f"SET ROLE {role}"))
            try:
                conn.execute(sa.text(sql))
                return True
            except sa.exc.ProgrammingError as exc:
                assert "permission denied" in str(exc), exc
                return False
            finally:
                conn.rollback()
                conn.execute(sa.text("RESET ROLE"))

    wrong = [(role, table) for role, schemas in reads.items() for table in tables
             if can_read(role, f"select * from {table} limit 1")
             != (table.split(".")[0] in schemas)]
    assert wrong == []
    for block in re.split(r"^-- name: ", QUERIES.read_text(), flags=re.M)[1:]:
        name, _, sql = block.partition("\n")
        assert can_read("carelink_analyst", sql.strip().rstrip(";")), name
