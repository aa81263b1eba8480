"""PostgreSQL roles enforcing the warehouse contract's read rules.

- carelink_etl: the pipeline; everything in every warehouse schema.
- carelink_ig: information governance; reads linkage (identifiers) and dq.
- carelink_analyst: reads marts and dq only, never identifiers (linkage, staging, meta).

DuckDB has no roles: a DuckDB file is protected by file permissions, so asking for roles there
is an error rather than a silent no-op.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from warehouse.schema import SCHEMAS

READS = {
    "carelink_etl": SCHEMAS,
    "carelink_ig": ("linkage", "dq"),
    "carelink_analyst": ("marts", "dq"),
}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _scram_verifier(conn: sa.Connection, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password`, computed on this side by libpq
    (`PQencryptPasswordConn`), so the password itself is never in SQL text: not in the
    server's statement log, and not in a failed statement an error message quotes."""
    pgconn = getattr(conn.connection.dbapi_connection, "pgconn", None)
    if pgconn is None:
        raise RuntimeError("role passwords need the psycopg driver "
                           "(a postgresql+psycopg:// warehouse URL)")
    return pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def create_roles(engine: sa.Engine, passwords: Mapping[str, str | None]) -> None:
    """Create (or bring up to date) the three roles and their grants; safe to rerun.

    A role with a password in `passwords` gets LOGIN with that password; otherwise NOLOGIN
    (usable through `SET ROLE` or group membership). Default privileges cover tables created
    later by the role running this (the one that runs migrations and loads).
    """
    if engine.dialect.name != "postgresql":
        raise RuntimeError(
            f"warehouse roles need PostgreSQL; this warehouse is {engine.dialect.name} "
            "(protect a DuckDB file with file-system permissions instead)"
        )
    with engine.begin() as conn:
        for role, schemas in READS.items():
            password = passwords.get(role)
            login = (f"LOGIN PASSWORD {_literal(_scram_verifier(conn, role, password))}"
                     if password else "NOLOGIN")
            conn.execute(sa.text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
                f"THEN CREATE ROLE {role}; END IF; END $$"
            ))
            conn.exec_driver_sql(f"ALTER ROLE {role} {login}")  # a verifier holds colons
            for schema in SCHEMAS:
                conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
                if schema not in schemas:
                    # Revoke so a rerun after the rules tightened takes the access away.
                    conn.execute(sa.text(
                        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}"))
                    conn.execute(sa.text(f"REVOKE ALL ON SCHEMA {schema} FROM {role}"))
                    conn.execute(sa.text(
                        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                        f"REVOKE ALL ON TABLES FROM {role}"))
                    continue
                if role == "carelink_etl":
                    conn.execute(sa.text(f"GRANT ALL ON SCHEMA {schema} TO {role}"))
                    conn.execute(sa.text(
                        f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}"))
                    conn.execute(sa.text(
                        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                        f"GRANT ALL ON TABLES TO {role}"))
                else:
                    conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
                    conn.execute(sa.text(
                        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"))
                    conn.execute(sa.text(
                        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                        f"GRANT SELECT ON TABLES TO {role}"))
