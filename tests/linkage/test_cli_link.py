"""`carelink link` on small hand-made CSV files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from linkage_helpers import valid_nhs

from linkage.cli_link import LinkInputError, link_csv_files

PEOPLE = [
    ("Margaret", "Thornbury", "1948-02-11", "NR2 4AB", "3 Mill Lane", "F"),
    ("Robert", "Ashworth", "1960-07-30", "PE30 1AA", "14 Church Road", "M"),
    ("Deborah", "Quennell", "1975-12-01", "IP24 2XY", "9 Park Avenue", "F"),
    ("Stanley", "Moore", "1938-05-07", "NR7 0HX", "22 Elm Grove", "M"),
    ("Patricia", "Okafor", "1952-03-19", "NR31 6NX", "5 Holt Road", "F"),
    ("William", "Greenacre", "1944-09-09", "NR19 2LT", "39 Chapel Street", "M"),
]


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def inputs(tmp_path: Path) -> list[Path]:
    header = "record_id,nhs_number,first_name,last_name,date_of_birth,sex,postcode,address"
    a_rows, b_rows = [], []
    for i, (first, last, dob, pc, addr, sex) in enumerate(PEOPLE * 4):
        person = i % len(PEOPLE)
        nhs = valid_nhs(100 + person) if i % 3 == 0 else ""
        a_rows.append(f"A{i},{nhs},{first},{last},{dob},{sex},{pc},{addr}")
    for i, (first, last, dob, pc, addr, sex) in enumerate(PEOPLE):
        d = dob.split("-")
        nick = {"Margaret": "Peggy", "Robert": "Bob", "William": "Bill"}.get(first, first)
        b_rows.append(f"B{i},,{nick},{last.upper()},{d[2]}/{d[1]}/{d[0]},{sex},"
                      f"{pc.replace(' ', '').lower()},{addr.replace('Road', 'Rd')}")
    b_rows.append(",,Nobody,Noone,1990-01-01,F,NR1 1AA,1 Nowhere")  # line 8: no record_id
    return [_write(tmp_path / "alpha.csv", header, a_rows),
            _write(tmp_path / "beta.csv", header, b_rows)]


def test_link_finds_duplicates_and_reports_bad_rows(inputs: list[Path], tmp_path: Path) -> None:
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    summary = link_csv_files(inputs, out, pairs=pairs, model=None)
    clusters = pd.read_csv(out, dtype=str)
    assert list(clusters.columns) == ["source", "record_id", "person_id"]
    assert len(clusters) == len(PEOPLE) * 5  # the row without record_id is left out
    assert set(clusters.source) == {"alpha", "beta"}
    assert clusters.person_id.nunique() == len(PEOPLE)
    by_rec = dict(zip(clusters.record_id, clusters.person_id, strict=True))
    assert by_rec["A0"] == by_rec["B0"] and by_rec["A1"] == by_rec["B1"]
    assert any("beta.csv line 8" in p and "record_id" in p for p in summary.problems)
    assert any("line 8" in line for line in summary.lines())
    linked = pd.read_csv(pairs)
    assert list(linked.columns) == ["source_l", "record_id_l", "source_r", "record_id_r",
                                    "match_probability", "match_weight"]
    assert len(linked) > 0


def test_missing_record_id_column_names_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "people.csv", "id,first_name", ["1,Ann"])
    with pytest.raises(LinkInputError, match=r"people\.csv.*record_id"):
        link_csv_files([bad], tmp_path / "out.csv", pairs=None, model=None)
    with pytest.raises(LinkInputError, match="missing.csv"):
        link_csv_files([tmp_path / "missing.csv"], tmp_path / "out.csv", pairs=None, model=None)


def test_saved_model_scores_the_same_way(inputs: list[Path], tmp_path: Path) -> None:
    from linkage.cli_link import LinkSummary, _read  # noqa: F401 - shared reader
    from linkage.model import train_model
    from linkage.records import RECORD_COLUMNS, make_record

    rows = [r for p in inputs for r in _read(p, LinkSummary())]
    records = pd.DataFrame([make_record(f"r{i}", "csv", "person", first=r["first_name"],
                                        last=r["last_name"], dob=r["date_of_birth"],
                                        nhs=r["nhs_number"], postcode=r["postcode"],
                                        address=r["address"], sex=r["sex"])
                            for i, r in enumerate(rows)], columns=RECORD_COLUMNS)
    model = train_model(records, out_dir=tmp_path / "models", trained_on="2026-11-24")
    out = tmp_path / "clusters.csv"
    summary = link_csv_files(inputs, out, pairs=None, model=model)
    assert summary.model == model.name
    assert pd.read_csv(out).person_id.nunique() == len(PEOPLE)


def _input_records(inputs: list[Path]) -> tuple[list[dict], pd.DataFrame]:
    from linkage.cli_link import LinkSummary, _read, _records

    rows = [r for p in inputs for r in _read(p, LinkSummary())]
    return rows, _records([f"r{i}" for i in range(len(rows))], rows)


def test_records_normalise_each_distinct_value_as_make_record_does(inputs: list[Path]) -> None:
    # The command normalises each distinct field value once (a million rows repeat names,
    # dates and postcodes); the frame must be exactly the one make_record builds row by row.
    from linkage.records import RECORD_COLUMNS, make_record

    rows, records = _input_records(inputs)
    by_row = pd.DataFrame([make_record(f"r{i}", "csv", "person", first=r.get("first_name"),
                                       last=r.get("last_name"), dob=r.get("date_of_birth"),
                                       nhs=r.get("nhs_number"), postcode=r.get("postcode"),
                                       address=r.get("address"), sex=r.get("sex"))
                           for i, r in enumerate(rows)], columns=RECORD_COLUMNS)
    pd.testing.assert_frame_equal(records, by_row)


def test_pairs_filtered_in_duckdb_are_the_pairs_linked_mask_keeps(inputs: list[Path]) -> None:
    # At a million records the full prediction cannot come into pandas, so the threshold and
    # the same-NHS-number rule are applied in DuckDB; they must keep exactly the pairs that
    # filtering every scored pair in pandas keeps, and count every scored pair.
    from linkage.clusters import linked_mask
    from linkage.model import fit, predict_links

    _, records = _input_records(inputs)
    settings = fit(records)
    _, every, scored_all = predict_links(records, settings, None)
    top = float(every["match_probability"].max())
    # 0.95: the usual threshold; above every score: only the same-NHS-number pairs link
    for threshold in (0.95, min(1.0, top + 1e-9)):
        _, kept, scored = predict_links(records, settings, threshold)
        expected = every[linked_mask(every, threshold)]
        assert scored == scored_all == len(every)
        assert _keys(kept) == _keys(expected) and len(kept) > 0
    assert len(expected) < len(every)  # the filter had pairs to drop, and kept NHS pairs


def _keys(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return sorted(zip(frame["unique_id_l"], frame["unique_id_r"], strict=True))
