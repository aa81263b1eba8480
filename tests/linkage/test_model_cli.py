"""IG approves a model from the command line; the approval is recorded and made current."""

from __future__ import annotations

import json

from carelink.cli import main
from linkage.model import current_model


def test_approve_and_list(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CARELINK_MODELS_DIR", str(tmp_path))
    model = tmp_path / "model-20261122-abcdef12.json"
    model.write_text(json.dumps({"link_type": "dedupe_only",
                                 "carelink": {"threshold": 0.9, "trained_on": "2026-11-22"}}))
    assert main(["model", "list"]) == 0
    assert "candidate" in capsys.readouterr().out
    assert main(["model", "approve", model.name, "--by", "A. Reviewer",
                 "--on", "2026-11-25"]) == 0
    assert current_model(tmp_path) == model
    meta = json.loads(model.read_text())["carelink"]
    assert meta["approved_by"] == "A. Reviewer" and meta["approved_at"] == "2026-11-25"
    assert main(["model", "approve", "missing.json", "--by", "X", "--on", "2026-11-25"]) == 2


def test_linkage_duckdb_spills_where_only_this_account_can_read() -> None:
    """Splink's DuckDB spills the records it compares (names, NHS numbers, dates of birth)
    to disk past its memory bound. DuckDB makes its spill folder and files with the umask
    (0755 and 0644 under the usual 022), so the folder it spills into must sit in one that
    only this account can enter, as the night's work folders do."""
    import os
    import stat
    from pathlib import Path

    from linkage.model import duckdb_connection

    con = duckdb_connection()
    try:
        spill = Path(con.execute("select current_setting('temp_directory')").fetchone()[0])
    finally:
        con.close()
    enclosing = spill.parent
    assert enclosing.stat().st_uid == os.getuid()
    assert stat.S_IMODE(enclosing.stat().st_mode) == 0o700, oct(enclosing.stat().st_mode)
