"""The data dictionary is generated from the schema and must be current; the roles command
works on PostgreSQL and refuses DuckDB with a clear message."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from carelink.cli import main
from warehouse.dictionary import render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def test_data_dictionary_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/warehouse.md is stale: run `carelink warehouse docs`")


def test_dictionary_covers_every_contract_object() -> None:
    from warehouse.schema import CONTRACT

    text = render()
    for name in CONTRACT:
        assert f"`{name}` (contract)" in text


def test_roles_refused_on_duckdb(tmp_path, capsys) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert main(["warehouse", "upgrade", "--warehouse", url]) == 0
    assert main(["warehouse", "roles", "--warehouse", url]) != 0
    assert "need PostgreSQL" in capsys.readouterr().err


def test_roles_command_on_postgres(warehouse_url, monkeypatch) -> None:
    if not warehouse_url.startswith("postgresql"):
        return
    monkeypatch.setenv("CARELINK_ROLE_PASSWORD_ANALYST", "analyst-test-secret")
    assert main(["warehouse", "upgrade", "--warehouse", warehouse_url]) == 0
    assert main(["warehouse", "roles", "--warehouse", warehouse_url]) == 0
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET ROLE carelink_analyst"))
            conn.execute(sa.text("select count(*) from marts.carers_known"))
            try:
                conn.execute(sa.text("select count(*) from linkage.person_xref"))
                raise AssertionError("analyst could read linkage.person_xref")
            except sa.exc.ProgrammingError as exc:
                assert "permission denied" in str(exc)
    finally:
        engine.dispose()
