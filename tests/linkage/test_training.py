"""Candidate model: train, evaluate, choose a threshold, on a small generated county."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from linkage.training import pick_threshold

NIGHT = date(2026, 11, 22)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from linkage.evaluate import stage_county
    from synthetic import generate_county

    root = tmp_path_factory.mktemp("training")
    generate_county(root / "county", carers=300, seed=5, first_night=NIGHT, nights=1)
    staged = stage_county(root / "county", extract_date=NIGHT, work_dir=root / "work")
    return {"root": root, "staged": staged, "truth": root / "county" / "truth"}


def test_pick_threshold_rules() -> None:
    table = [{"threshold": 0.5, "precision": 0.99, "f1": 0.95},
             {"threshold": 0.9, "precision": 0.9995, "f1": 0.94},
             {"threshold": 0.99, "precision": 1.0, "f1": 0.90}]
    assert pick_threshold(table)[0] == 0.9
    low = [{**r, "precision": 0.9} for r in table]
    chosen, rule = pick_threshold(low)
    assert chosen == 0.5 and "F1" in rule


def test_train_evaluate_choose(county: dict) -> None:
    from linkage.model import approve_model, current_model
    from linkage.training import choose_threshold, evaluate_candidate, train_candidate

    models = county["root"] / "models"
    path = train_candidate(county["staged"], models_dir=models, trained_on=NIGHT)
    assert path.name.startswith("model-20261122-")
    assert current_model(models) is None  # a candidate is not approved

    evaluation = evaluate_candidate(path, county["staged"], county["truth"])
    meta = json.loads(path.read_text())["carelink"]
    assert meta["evaluation"] == json.loads(json.dumps(evaluation))
    assert evaluation["persons"] < evaluation["records"]
    assert sum(evaluation["cluster_sizes"].values()) == evaluation["persons"]
    assert evaluation["truth"]["pairwise"]["overall"]["precision"] >= 0.99

    chosen = choose_threshold(path, county["staged"], county["truth"])
    meta = json.loads(path.read_text())["carelink"]
    assert meta["threshold"] == chosen
    evidence = meta["threshold_evidence"]
    assert evidence["chosen"] == chosen and len(evidence["table"]) >= 5
    table = pd.DataFrame(evidence["table"])
    assert table["threshold"].is_monotonic_increasing
    # a higher threshold links less (the guards may reorder single steps, not the ends)
    assert table["recall"].iloc[-1] <= table["recall"].iloc[0]
    row = table[table["threshold"] == chosen].iloc[0]
    assert row["precision"] >= 0.999 or row["f1"] == table["f1"].max()
    assert meta["evaluation"]  # earlier evidence kept
    assert json.loads(path.read_text())["comparisons"]  # the model itself untouched

    approve_model(path, by="ig-lead", on=NIGHT)
    with pytest.raises(ValueError, match="approved"):
        choose_threshold(path, county["staged"], county["truth"])


def test_evaluate_without_truth(county: dict, tmp_path: Path) -> None:
    from linkage.training import evaluate_candidate, train_candidate

    path = train_candidate(county["staged"], models_dir=tmp_path, trained_on=NIGHT)
    evaluation = evaluate_candidate(path, county["staged"], None)
    assert "truth" not in evaluation and evaluation["with_truth"] is False
    assert evaluation["pairs_linked"] > 0
