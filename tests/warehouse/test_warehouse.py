"""The warehouse on both engines: migrations create the contract, nightly staging loads are
atomic and idempotent, and PostgreSQL roles keep analysts away from identifiers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

import warehouse
import warehouse.load
from sources.result import FileAccount, QuarantinedRow, SourceExtract
from sources.tables import ALL_TABLES, PROVIDER_TABLES
from tests.support.staged import frame
from warehouse.schema import CONTRACT


def extract(source: str, night: date, tables: dict[str, pd.DataFrame], *,
            status: str = "extracted", state: dict | None = None,
            quarantine: list[QuarantinedRow] | None = None, message: str = ""
            ) -> SourceExtract:
    files = [FileAccount(f"{name}.csv", rows_read=len(df) + 1, rows_staged=len(df),
                         rows_quarantined=1) for name, df in tables.items()]
    return SourceExtract(
        source=source, extract_date=night, status=status, tables=tables, files=files,
        quarantine=quarantine or [], message=message, state=state or {},
    )


N1, N2, N3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def _snapshot(engine) -> dict[str, list[tuple]]:
    """Everything the loads touch, sorted, for before/after comparisons."""
    out = {}
    with engine.connect() as conn:
        for qualified in [f"staging.{t.name}" for t in ALL_TABLES] + [
            "meta.source_state", "meta.run_ledger", "dq.quarantine",
        ]:
            rows = conn.execute(sa.text(f"SELECT * FROM {qualified}")).all()
            out[qualified] = sorted(tuple(map(str, r)) for r in rows)
    return out


def _count(engine, qualified: str, where: str = "1=1") -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {qualified} WHERE {where}")).scalar()


def _carers(refs: list[str], night: date = N1) -> pd.DataFrame:
    return frame("provider_carer", [{"carer_ref": r, "extract_date": night} for r in refs])


def _provider(night: date, refs: list[str], star_refs: list[str] | None = None):
    tables = {"provider_carer": _carers(refs, night)}
    if star_refs is not None:
        tables["provider_star_score"] = frame(
            "provider_star_score", [{"star_ref": s, "carer_ref": refs[0], "reading": 1,
                                     "recorded_at": pd.Timestamp("2025-02-01 10:30")}
                                    for s in star_refs])
    return extract("provider", night, tables, state={"snapshot_date": night.isoformat()},
                   quarantine=[QuarantinedRow("provider", "carers.csv", 7, "bad date")])


# --- migrations ---------------------------------------------------------------------------


def test_upgrade_creates_every_contract_object(warehouse_url):
    assert warehouse.upgrade(warehouse_url) == warehouse.head_revision()
    engine = warehouse.make_engine(warehouse_url)
    try:
        # information_schema, not sa.inspect: it reads the same on DuckDB and PostgreSQL.
        cols = warehouse.query_frame(
            engine,
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema IN ('staging', 'meta', 'linkage', 'dq', 'marts') "
            "ORDER BY table_schema, table_name, ordinal_position",
        )
        found = cols.groupby(["table_schema", "table_name"])["column_name"].apply(list)
        for qualified, columns in CONTRACT.items():
            key = tuple(qualified.split("."))
            assert key in found.index, qualified
            assert set(columns) <= set(found[key]), (qualified, set(columns) - set(found[key]))
        for spec in ALL_TABLES:
            assert found[("staging", spec.name)] == spec.column_names
        for name in ("source_state", "run_ledger", "alembic_version"):
            assert ("meta", name) in found.index
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_ensure_current(warehouse_url):
    engine = warehouse.make_engine(warehouse_url)
    try:
        assert warehouse.current_revision(engine) is None
        with pytest.raises(warehouse.WarehouseBehind, match="carelink warehouse upgrade"):
            warehouse.ensure_current(engine)
        head = warehouse.head_revision()
        assert warehouse.upgrade(warehouse_url) == head
        assert warehouse.upgrade(warehouse_url) == head
        assert warehouse.current_revision(engine) == head
        warehouse.ensure_current(engine)
    finally:
        engine.dispose()


def test_upgrade_from_the_previous_revision_keeps_loaded_data(warehouse_url):
    """A production warehouse is never empty when a release lands: one at 0001 holding a
    night's data must be refused by the pipeline, then upgrade in place without losing it."""
    engine = warehouse.make_engine(warehouse_url)
    try:
        assert warehouse.upgrade_engine(engine, "0001") == "0001"
        warehouse.load.stage_extract(engine, _provider(N1, ["C1", "C2"], star_refs=["S1"]), "run1")
        before = _snapshot(engine)
        with pytest.raises(warehouse.WarehouseBehind, match="at revision 0001"):
            warehouse.ensure_current(engine)
        assert warehouse.upgrade_engine(engine) == warehouse.head_revision()
        warehouse.ensure_current(engine)
        assert _snapshot(engine) == before
        new_columns = warehouse.query_frame(
            engine,
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name IN "
            "('dim_person', 'fact_star_reading', 'sustainment', 'care_packages')")
        found = set(zip(new_columns.table_name, new_columns.column_name, strict=True))
        assert {("dim_person", "person_key"), ("fact_star_reading", "total_score"),
                ("sustainment", "check_date"), ("care_packages", "year_ending")} <= found
        # and the next night loads into the upgraded schema
        warehouse.load.stage_extract(engine, _provider(N2, ["C1", "C2", "C3"]), "run2")
        assert _count(engine, "staging.provider_carer") == 3
    finally:
        engine.dispose()


def test_mask_url_masks_password():
    from carelink.config import mask_url

    shown = mask_url("postgresql+psycopg://etl:s3cret@db:5432/carelink")
    assert "s3cret" not in shown and "etl" in shown
    # a URL SQLAlchemy cannot parse is still masked
    assert "s3cret" not in mask_url("postgresql+psycopg://etl:s3cret@db:notaport/carelink")


# --- staging loads ------------------------------------------------------------------------


def test_provider_snapshot_replaces_previous(engine):
    r1 = warehouse.stage_extract(engine, _provider(N1, ["C1", "C2", "C3"], ["S1"]), "run1")
    assert r1.status == "extracted" and r1.rows_written == 4
    warehouse.stage_extract(engine, _provider(N2, ["C2", "C9"]), "run2")
    staged = warehouse.read_staging(engine)
    assert sorted(staged["provider_carer"]["carer_ref"]) == ["C2", "C9"]
    assert len(staged["provider_star_score"]) == 0  # full snapshot: absent file = no rows
    assert set(staged) == {t.name for t in ALL_TABLES}
    assert warehouse.read_source_state(engine, "provider") == {"snapshot_date": N2.isoformat()}
    assert _count(engine, "dq.quarantine") == 2
    assert _count(engine, "meta.run_ledger", "source = 'provider'") == 2


def test_las_upsert_and_merges(engine):
    people = frame("las_person", [{"person_id": i, "forename": f"v1-{i}"} for i in (1, 2, 3)])
    # The merge of 5 into 2 arrives a night before person 5 itself.
    merge = frame("las_person_merge", [{"old_person_id": 5, "new_person_id": 2}])
    warehouse.stage_extract(engine, extract("las", N1, {"las_person": people,
                                                       "las_person_merge": merge},
                                            state={"high_water_mark": "2025-03-01T00:00"}),
                            "run1")
    changed = frame("las_person", [{"person_id": 3, "forename": "v2-3"},
                                   {"person_id": 5, "forename": "v2-5"}])
    warehouse.stage_extract(engine, extract("las", N2, {"las_person": changed},
                                            state={"high_water_mark": "2025-03-02T00:00"}),
                            "run2")
    person = warehouse.read_staging(engine)["las_person"].set_index("person_id")
    assert sorted(person.index) == [1, 2, 3, 5]
    assert person.loc[3, "forename"] == "v2-3"
    assert person.loc[1, "forename"] == "v1-1"
    assert person.loc[5, "merged_into"] == 2
    assert pd.isna(person.loc[1, "merged_into"])
    assert warehouse.read_source_state(engine, "las")["high_water_mark"] == "2025-03-02T00:00"


def test_gp_replaces_only_the_delivered_practices(engine):
    def entries(practice, n, night):
        return [{"practice_ods": practice, "entry_number": k, "extract_date": night,
                 "snapshot_month": date(2025, night.month, 1)} for k in range(1, n + 1)]

    first = frame("gp_register_entry", entries("A1", 3, N1) + entries("B2", 2, N1))
    warehouse.stage_extract(engine, extract(
        "gp", N1, {"gp_register_entry": first},
        state={"files": {"a.csv": "h1", "b.csv": "h2"}, "practices_replaced": ["A1", "B2"]},
    ), "run1")
    second = frame("gp_register_entry", entries("A1", 1, N2))
    warehouse.stage_extract(engine, extract(
        "gp", N2, {"gp_register_entry": second},
        state={"files": {"a2.csv": "h3"}, "practices_replaced": ["A1"]},
    ), "run2")
    gp = warehouse.read_staging(engine)["gp_register_entry"]
    assert gp.groupby("practice_ods").size().to_dict() == {"A1": 1, "B2": 2}
    assert (gp.loc[gp.practice_ods == "A1", "extract_date"] == N2).all()
    files = warehouse.read_source_state(engine, "gp")["files"]
    assert files == {"a.csv": "h1", "b.csv": "h2", "a2.csv": "h3"}


def test_rejected_extract_records_ledger_and_quarantine_only(engine):
    warehouse.stage_extract(engine, _provider(N1, ["C1"]), "run1")
    before = warehouse.read_staging(engine)["provider_carer"]
    rejected = extract(
        "provider", N2, {}, status="rejected", message="checksum mismatch",
        quarantine=[QuarantinedRow("provider", "carers.csv", None, "checksum mismatch")],
        state={"snapshot_date": N2.isoformat()},
    )
    result = warehouse.stage_extract(engine, rejected, "run2")
    assert result.status == "rejected" and result.rows_written == 0
    pd.testing.assert_frame_equal(warehouse.read_staging(engine)["provider_carer"], before)
    assert warehouse.read_source_state(engine, "provider") == {"snapshot_date": N1.isoformat()}
    ledger = warehouse.query_frame(
        engine, "SELECT status, message FROM meta.run_ledger WHERE extract_date = :d",
        {"d": N2})
    assert ledger.to_dict("records") == [{"status": "rejected", "message": "checksum mismatch"}]
    assert _count(engine, "dq.quarantine", "run_id = 'run2' AND row_number IS NULL") == 1


def test_record_blocked(engine):
    warehouse.stage_extract(engine, _provider(N1, ["C1"]), "run1")
    before = _snapshot(engine)["staging.provider_carer"]
    warehouse.record_blocked(engine, _provider(N2, ["C7"]), "run2", "critical failures")
    assert _snapshot(engine)["staging.provider_carer"] == before
    assert warehouse.read_source_state(engine, "provider") == {"snapshot_date": N1.isoformat()}
    status = warehouse.query_frame(
        engine, "SELECT status, rows_staged FROM meta.run_ledger WHERE extract_date = :d",
        {"d": N2})
    assert status["status"].tolist() == ["blocked"]
    assert status["rows_staged"].tolist() == [0]  # nothing of tonight's is in staging
    # dq.quarantine: the row quarantined on its own, and the file the block kept out
    held = warehouse.query_frame(
        engine, "SELECT file, row_number, reason FROM dq.quarantine WHERE run_id = 'run2' "
        "ORDER BY row_number NULLS FIRST")
    assert held["file"].tolist() == ["provider_carer.csv", "carers.csv"]
    assert held["reason"].iloc[0].startswith("not loaded: provider blocked by a critical")
    assert held["row_number"].iloc[1] == 7


def test_failure_mid_load_leaves_everything_as_before(engine, monkeypatch):
    warehouse.stage_extract(engine, _provider(N1, ["C1", "C2"], ["S1"]), "run1")
    before = _snapshot(engine)
    real = warehouse.load._insert_frame
    calls = {"n": 0}

    def failing(conn, tbl, df):
        if tbl.schema == "staging":
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("disk full")
        return real(conn, tbl, df)

    monkeypatch.setattr(warehouse.load, "_insert_frame", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        warehouse.stage_extract(engine, _provider(N2, ["C3"], ["S2", "S3"]), "run2")
    assert calls["n"] == 2
    assert _snapshot(engine) == before


def test_rerunning_the_same_extract_is_idempotent(engine):
    nights = [
        _provider(N1, ["C1", "C2"], ["S1"]),
        extract("las", N1, {"las_person": frame("las_person", [{"person_id": 1}]),
                            "las_person_merge": frame("las_person_merge",
                                                      [{"old_person_id": 1,
                                                        "new_person_id": 4}])}),
        extract("gp", N1, {"gp_register_entry": frame(
            "gp_register_entry", [{"practice_ods": "A1", "entry_number": 1}])},
            state={"practices_replaced": ["A1"]}),
    ]
    for ex in nights:
        warehouse.stage_extract(engine, ex, "run1")
    first = _snapshot(engine)
    for ex in nights:
        warehouse.stage_extract(engine, ex, "run1")
    second = _snapshot(engine)
    first.pop("meta.run_ledger"), second.pop("meta.run_ledger")  # recorded_at differs
    assert first == second
    assert _count(engine, "meta.run_ledger") == 3


def test_table_row_history(engine):
    warehouse.stage_extract(engine, _provider(N1, ["C1", "C2"], ["S1"]), "run1")
    warehouse.stage_extract(engine, extract("provider", N2, {}, status="absent"), "run2")
    warehouse.stage_extract(engine, _provider(N3, ["C1", "C2", "C3"]), "run3")
    history = warehouse.table_row_history(engine, "provider", before=date(2025, 3, 4))
    assert set(history) == {t.name for t in PROVIDER_TABLES}
    assert history["provider_carer"] == [2, 3]
    assert history["provider_star_score"] == [1, 0]
    assert warehouse.table_row_history(engine, "provider", before=N3)["provider_carer"] == [2]
    assert warehouse.table_row_history(engine, "gp", before=N3) == {"gp_register_entry": []}


def test_append_and_replace_rows(engine):
    results = pd.DataFrame([
        {"run_id": "r1", "run_date": N1, "source": "las", "suite": "s", "expectation": "e",
         "severity": "critical", "success": True, "unexpected_count": 0, "element_count": 9},
    ])
    assert warehouse.append_rows(engine, "dq.validation_results", results) == 1
    with pytest.raises(ValueError, match="no column"):
        warehouse.append_rows(engine, "dq.validation_results", results.assign(extra=1))
    xref = pd.DataFrame({"source_record_key": ["las:1", "las:2"], "person_key": ["P1", "P1"],
                         "run_id": "r1"})
    with engine.begin() as conn:
        warehouse.replace_rows(conn, "linkage.person_xref", xref)
    with engine.begin() as conn:
        warehouse.replace_rows(conn, "linkage.person_xref", xref.assign(run_id="r2"))
    assert _count(engine, "linkage.person_xref", "run_id = 'r2'") == 2
    assert _count(engine, "linkage.person_xref") == 2


# --- roles --------------------------------------------------------------------------------


def test_roles_need_postgresql(tmp_path):
    engine = warehouse.make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        warehouse.create_roles(engine, {})


@pytest.mark.postgres
def test_roles_keep_analysts_away_from_identifiers(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL only")
    warehouse.create_roles(engine, {})
    warehouse.create_roles(engine, {})  # idempotent
    with engine.connect() as conn:
        conn.execute(sa.text("SET ROLE carelink_analyst"))
        conn.execute(sa.text("SELECT count(*) FROM marts.carers_known"))
        conn.execute(sa.text("SELECT count(*) FROM dq.quarantine"))
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("SELECT count(*) FROM linkage.person_xref"))
        conn.rollback()
        conn.execute(sa.text("SET ROLE carelink_analyst"))
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("SELECT count(*) FROM staging.provider_carer"))
        conn.rollback()
        conn.execute(sa.text("SET ROLE carelink_ig"))
        conn.execute(sa.text("SELECT count(*) FROM linkage.person_xref"))
        conn.rollback()
    # Tables created after the grants are covered by the default privileges.
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE marts.later (x int)"))
    with engine.connect() as conn:
        conn.execute(sa.text("SET ROLE carelink_analyst"))
        conn.execute(sa.text("SELECT count(*) FROM marts.later"))
        conn.rollback()


def test_no_person_level_row_about_anyone_on_a_declined_file() -> None:
    # CR1 declined: neither CR1 nor the person on CR1's file (CF1) gets a dim_person row.
    # CF2, on CR1's file too, is also on CR2's file (which did not decline): they stay. CF4
    # on CR1's file is an LAS carer: they stay as what LAS says (a carer, not in provider).
    from warehouse.dimensional import dim_person

    staged = {
        "provider_carer": frame("provider_carer", [
            {"carer_ref": "CR1", "information_sharing": "Declined"},
            {"carer_ref": "CR2", "information_sharing": "Agreed"}]),
        "provider_cared_for": frame("provider_cared_for", [
            {"cared_for_ref": "CF1", "carer_ref": "CR1"},
            {"cared_for_ref": "CF2", "carer_ref": "CR1"},
            {"cared_for_ref": "CF3", "carer_ref": "CR2"},
            {"cared_for_ref": "CF4", "carer_ref": "CR1"}]),
        "las_person_relationship": frame("las_person_relationship", [
            {"relationship_id": 1, "person_id": 8, "related_person_id": 7,
             "relationship_type": "Informal carer"}]),
    }
    records = pd.DataFrame({
        "source_record_key": ["provider:carer:CR1", "provider:cared_for:CF1",
                              "provider:cared_for:CF2", "provider:carer:CR2",
                              "provider:cared_for:CF3", "provider:cared_for:CF4", "las:7"],
        "person_key": ["pk_a", "pk_b", "pk_c", "pk_d", "pk_c", "pk_e", "pk_e"],
        # LAS records carry no role: LAS's caring relationships give it (las:7 cares for las:8)
        "role": ["carer", "cared_for", "cared_for", "carer", "cared_for", "cared_for",
                 "person"],
        "source": ["provider"] * 6 + ["las"]})
    people = dim_person(staged, records, date(2025, 3, 1)).set_index("person_key")
    assert sorted(people.index) == ["pk_c", "pk_d", "pk_e"]
    las_carer = people.loc["pk_e"]
    assert las_carer["is_carer"] and not las_carer["is_cared_for"]
    assert las_carer["in_las"] and not las_carer["in_provider"]


def test_a_warehouse_migrated_by_a_newer_release_is_refused_not_upgraded(warehouse_url, capsys):
    """After a deployment is rolled back the warehouse is ahead of the code: upgrading cannot
    help and downgrading would drop data, so both the night and the upgrade say so plainly."""
    from carelink.cli import main

    assert warehouse.upgrade(warehouse_url) == warehouse.head_revision()
    engine = warehouse.make_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("update meta.alembic_version set version_num = '0099_future'"))
        with pytest.raises(warehouse.WarehouseBehind, match="newer release") as refused:
            warehouse.ensure_current(engine)
        assert "carelink warehouse upgrade`" not in str(refused.value)
    finally:
        engine.dispose()
    assert main(["warehouse", "upgrade", "--warehouse", warehouse_url]) == 2
    err = capsys.readouterr().err
    assert "0099_future" in err and "Deploy that release again" in err
    assert "Traceback" not in err


def test_a_rerun_of_the_newest_night_starts_from_the_night_before(engine):
    """A re-sent delivery is rerun: its keys must come from the night before, as one run's
    would, not from the superseded first run's output (whose retirements are undone too)."""
    def load(night, xref, history):
        with engine.begin() as conn:
            warehouse.keep_linkage_start(conn, night, f"run-{night}")
            warehouse.replace_rows(conn, "linkage.person_xref", pd.DataFrame(
                xref, columns=["source_record_key", "person_key", "run_id"]))
            warehouse.replace_rows(conn, "linkage.person_key_history", pd.DataFrame(
                history, columns=["retired_key", "surviving_key", "run_id"]))

    def state(night):
        found = warehouse.read_linkage_state(engine, night)
        return (sorted(map(tuple, found["person_xref"].to_numpy().tolist())),
                sorted(map(tuple, found["person_key_history"].to_numpy().tolist())))

    night1 = [("provider:carer:C1", "pk_1", "r1"), ("las:7", "pk_2", "r1")]
    load(N1, night1, [])
    # the first delivery of night 2 lacked C1's file: C1's key went, pk_2 retired into pk_9
    load(N2, [("las:7", "pk_9", "r2")], [("pk_2", "pk_9", "r2")])
    assert state(N2) == (sorted(night1), [])  # the rerun of night 2 starts from night 1
    good = [("provider:carer:C1", "pk_1", "r2b"), ("las:7", "pk_2", "r2b")]
    load(N2, good, [])  # the rerun, from the re-sent delivery
    assert state(N2) == (sorted(night1), [])  # still night 1's, not the first run's
    assert state(N3) == (sorted(good), [])  # the next night starts from the rerun
