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
