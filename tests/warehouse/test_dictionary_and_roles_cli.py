"""The data dictionary is generated from the schema and must be current; the roles command
works on PostgreSQL and refuses DuckDB with a clear message."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
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


def _scram_holds(verifier: str, password: str) -> bool:
    """Whether a PostgreSQL SCRAM-SHA-256 verifier was made from `password` (RFC 5802)."""
    head, _, keys = verifier.partition("$")[2].partition("$")
    iterations, salt = head.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                 int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


def test_roles_command_on_postgres(warehouse_url, monkeypatch) -> None:
    if not warehouse_url.startswith("postgresql"):
        pytest.skip("roles are PostgreSQL's (the DuckDB variant is refused above)")
    secret = "analyst-test-secret"
    monkeypatch.setenv("CARELINK_ROLE_PASSWORD_ANALYST", secret)
    assert main(["warehouse", "upgrade", "--warehouse", warehouse_url]) == 0
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(f"{statement} {parameters}")

    sa.event.listen(sa.Engine, "before_cursor_execute", capture)
    try:
        assert main(["warehouse", "roles", "--warehouse", warehouse_url]) == 0
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", capture)
    # The password never travels as SQL text (a statement log, an error quoting it)...
    assert any("ALTER ROLE carelink_analyst LOGIN PASSWORD" in s for s in sent)
    assert not [s for s in sent if secret in s]
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            verifier = conn.execute(sa.text(
                "select rolpassword from pg_authid where rolname = 'carelink_analyst'"
            )).scalar_one()
            # ...yet the role's stored verifier is that password's.
            assert verifier.startswith("SCRAM-SHA-256$") and _scram_holds(verifier, secret)
            assert not _scram_holds(verifier, "another-secret")
            conn.execute(sa.text("SET ROLE carelink_analyst"))
            conn.execute(sa.text("select count(*) from marts.carers_known"))
            try:
                conn.execute(sa.text("select count(*) from linkage.person_xref"))
                raise AssertionError("analyst could read linkage.person_xref")
            except sa.exc.ProgrammingError as exc:
                assert "permission denied" in str(exc)
    finally:
        engine.dispose()
