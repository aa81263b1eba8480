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
    from linkage.cli_link import LinkSummary, _read
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


def test_an_input_with_no_duplicates_links_nobody_and_does_not_fail(tmp_path: Path) -> None:
    # Nothing agrees on a strict rule, so the estimated prior would be 0 (Splink: log2(0)).
    rows = [f"{i},{first},{last},{dob},{pc}" for i, (first, last, dob, pc, _, _)
            in enumerate(PEOPLE)]
    one = _write(tmp_path / "distinct.csv", "record_id,first_name,last_name,date_of_birth,"
                 "postcode", rows)
    only_ids = _write(tmp_path / "ids.csv", "record_id", [str(i) for i in range(20)])
    for path in (one, only_ids):
        out = tmp_path / f"{path.stem}-out.csv"
        summary = link_csv_files([path], out, pairs=None, model=None)
        clusters = pd.read_csv(out, dtype=str)
        assert clusters.person_id.nunique() == len(clusters) == summary.records


def test_keys_are_kept_as_written_and_never_collide(tmp_path: Path) -> None:
    header = "record_id,first_name,last_name"
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    a = _write(tmp_path / "d1" / "same.csv", header, ["NA,Ann,Lee", "A  1,Bob,Ray",
                                                      "A 1,Cy,Day", "x,Di,Fox", "x,Ed,Kay"])
    b = _write(tmp_path / "d2" / "same.csv", header, ["x,Flo,Gee", "y,Gus,Hay"])
    out = tmp_path / "out.csv"
    summary = link_csv_files([a, b], out, pairs=None, model=None)
    clusters = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(clusters.record_id) == ["NA", "A  1", "A 1", "x", "y"]
    assert not clusters.duplicated(["source", "record_id"]).any()
    assert any(f"{a} line 6" in p and "repeats" in p for p in summary.problems)
    assert any(f"{b} line 2" in p and f"{a} line 5" in p for p in summary.problems)


def test_malformed_rows_are_reported_not_silently_absorbed(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("record_id,first_name,last_name,address,sex\n"
                    "1,Ann,Lee,1 High Street,female\n"
                    '2,Bob,Ray,"Flat 2, 5 Mill Road,M\n'
                    "3,Cy,Day,3 Park Lane,M\n"
                    '4,Di,Fox,"4 Oak Avenue",F\n'
                    "5,Ed,Kay,5 Elm Close,M,surplus\n"
                    "6,Flo\n", encoding="utf-8")
    summary = link_csv_files([path], tmp_path / "out.csv", pairs=None, model=None)
    text = "\n".join(summary.problems)
    assert f"{path} lines 3-5: a quoted field runs over several lines" in text
    assert f"{path} line 6: 6 fields where the header has 5" in text
    assert f"{path} line 7: fewer fields" in text
    from linkage.cli_link import LinkSummary, _read

    sexes = {r["record_id"]: r["sex"] for r in _read(path, LinkSummary())}
    assert sexes["1"] is None and sexes["5"] == "M"  # the contract: F, M or unknown


def test_pairs_are_every_scored_pair_at_or_above_the_threshold(inputs: list[Path],
                                                               tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    summary = link_csv_files(inputs, tmp_path / "out.csv", pairs=pairs, model=None)
    written = pd.read_csv(pairs)
    assert len(written) and (written["match_probability"] >= summary.threshold).all()


def test_an_unusable_model_or_output_stops_before_any_work(inputs: list[Path],
                                                           tmp_path: Path) -> None:
    for i, text in enumerate(["[]", "{}", '{"comparisons": []}',
                              '{"comparisons": [{"comparison_levels": [{}]}], '
                              '"carelink": {"threshold": "high"}}']):
        model = tmp_path / f"model{i}.json"
        model.write_text(text, encoding="utf-8")
        with pytest.raises(LinkInputError, match=f"model{i}.json"):
            link_csv_files(inputs, tmp_path / "out.csv", pairs=None, model=model)
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    with pytest.raises(LinkInputError, match="cannot be written"):
        link_csv_files(inputs, blocked / "out.csv", pairs=None, model=None)


def test_a_model_that_cannot_score_the_records_is_named_without_the_engine_text(
        inputs: list[Path], tmp_path: Path) -> None:
    """A model written for other columns fails as the model's fault (exit 2 with its file
    name); the engine's own text, which can quote a value from a record, stays out."""
    import json

    from linkage.model import PRIOR_MODEL

    model = json.loads(PRIOR_MODEL.read_text(encoding="utf-8"))
    sql = json.dumps(model["comparisons"][1])
    model["comparisons"][1] = json.loads(sql.replace("first_name", "forename_as_keyed"))
    path = tmp_path / "other_columns.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(LinkInputError) as caught:
        link_csv_files(inputs, tmp_path / "out.csv", pairs=None, model=path)
    message = str(caught.value)
    assert message.startswith(f"{path}: the model cannot score these records")
    assert "forename_as_keyed" not in message and "Binder" not in message


def test_a_refused_output_leaves_no_empty_clusters_file_behind(inputs: list[Path],
                                                               tmp_path: Path) -> None:
    """`--out` writable but `--pairs` not: the command stops, and a script that looks for
    CLUSTERS.csv must not find an empty one the check created (seen by an independent
    review); a CLUSTERS.csv that was there before is left as it was."""
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    out = tmp_path / "clusters.csv"
    with pytest.raises(LinkInputError, match="cannot be written"):
        link_csv_files(inputs, out, pairs=blocked / "pairs.csv", model=None)
    assert not out.exists()
    out.write_text("earlier\n", encoding="utf-8")
    with pytest.raises(LinkInputError, match="cannot be written"):
        link_csv_files(inputs, out, pairs=blocked / "pairs.csv", model=None)
    assert out.read_text(encoding="utf-8") == "earlier\n"


def test_a_handful_of_records_links_its_plain_duplicates_and_only_them(tmp_path: Path) -> None:
    # Five records cannot estimate a model (ten pairs): the built-in prior's m and u apply,
    # with the match rate from the input. Duplicates link; father and son, twins don't.
    path = _write(tmp_path / "few.csv", "record_id,first_name,last_name,date_of_birth,"
                  "postcode,address,sex", [
                      "1,Robert,Smith,1950-03-04,NR1 1AA,1 High Street,M",
                      "2,Robert,Smith,04/03/1950,nr11aa,1 High St,M",
                      "3,Bob,Smith,1950-03-04,NR1 1AA,1 High Street,M",
                      "4,Robert,Smith,1978-06-01,NR1 1AA,1 High Street,M",
                      "5,Mary,Jones,1960-01-02,PE30 1AB,5 Mill Lane,F",
                      "6,Jane,Jones,1960-01-02,PE30 1AB,5 Mill Lane,F",
                  ])
    out = tmp_path / "out.csv"
    summary = link_csv_files([path], out, pairs=None, model=None)
    person = dict(pd.read_csv(out, dtype=str)[["record_id", "person_id"]].itertuples(
        index=False))
    assert person["1"] == person["2"] == person["3"]
    assert len({person["1"], person["4"], person["5"], person["6"]}) == 4
    assert summary.model.startswith("built-in prior")


def test_the_prior_model_matches_the_comparisons() -> None:
    """Rebuild it (`python -m bench.prior`) when comparisons or blocking rules change."""
    import json

    from linkage.model import PRIOR_MODEL, base_settings, settings_hash

    prior = json.loads(PRIOR_MODEL.read_text(encoding="utf-8"))
    assert prior["carelink"]["settings_hash"] == settings_hash(base_settings())
    assert "no real data" in prior["carelink"]["trained_on"]
