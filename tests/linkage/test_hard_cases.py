"""The model trained as the nightly trains it, scoring small hand-made cases: each hard
negative kind stays apart, and nicknames, transposed dates and invalid NHS numbers behave.

The hand-made records are scored together with a generated county's records, so that name
frequencies (the term-frequency adjustment) are those of a county, not of twelve rows; their
surnames are made up so that no generated person can join them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from linkage_helpers import valid_nhs

from carelink.identity import is_valid_nhs_number
from linkage.clusters import cannot_link, cluster_records
from linkage.evaluate import stage_county
from linkage.model import load_model, model_threshold, train_model
from linkage.records import RECORD_COLUMNS, make_record, person_records
from synthetic import generate_county

NIGHT = date(2026, 11, 22)
INVALID_NHS = "1234567890"  # fails the Modulus 11 check
MISTYPED_NHS = valid_nhs(77)[:-1] + "0"  # the last digit of a valid number keyed wrongly


def _rec(key: str, first: str, last: str, dob: str | None, *, sex: str, nhs: str | None = None,
         postcode: str = "NR2 4TE", address: str | None = "7 Quill Lane") -> dict:
    source = key.split(":")[0]
    role = {"provider": "carer", "las": "person", "gp": "carer"}[source]
    return make_record(key, source, role, first=first, last=last, dob=dob, nhs=nhs,
                       postcode=postcode, address=address, sex=sex)


CASES = [
    # partners: one address, one surname, different first names and dates of birth
    _rec("las:990001", "Harold", "Quillfeather", "1948-02-11", sex="M"),
    _rec("las:990002", "Edith", "Quillfeather", "1950-07-30", sex="F"),
    _rec("provider:carer:QX1", "Edith", "Quillfeather", "1950-07-30", sex="F"),
    # parent and child with one name at one address, thirty years apart
    _rec("las:990003", "Peter", "Marrowby", "1951-05-06", sex="M", postcode="NR3 1AB",
         address="2 Elm Row"),
    _rec("provider:carer:QX2", "Peter", "Marrowby", "1981-09-14", sex="M", postcode="NR3 1AB",
         address="2 Elm Row"),
    # twins: one surname, one date of birth, one address, different first names
    _rec("las:990004", "Amy", "Tellwright", "1990-12-01", sex="F", postcode="NR4 6QQ"),
    _rec("las:990005", "Beth", "Tellwright", "1990-12-01", sex="F", postcode="NR4 6QQ"),
    # one person: a nickname in one source, the formal name in another
    _rec("las:990006", "Robert", "Dunnage", "1944-03-17", sex="M", postcode="NR5 8PL"),
    _rec("provider:carer:QX3", "Bob", "Dunnage", "1944-03-17", sex="M", postcode="NR5 8PL"),
    # one person: day and month transposed in one source
    _rec("las:990007", "Winifred", "Staveley", "1939-04-08", sex="F", postcode="NR6 2DD"),
    _rec("provider:carer:QX4", "Winifred", "Staveley", "1939-08-04", sex="F",
         postcode="NR6 2DD"),
    # two people sharing an invalid NHS number keyed on both files: never joined by it
    _rec("las:990008", "Gordon", "Pennyfold", "1960-01-01", sex="M", nhs=INVALID_NHS,
         postcode="NR7 0AA"),
    _rec("provider:carer:QX5", "Maureen", "Brightsea", "1972-10-10", sex="F",
         nhs=INVALID_NHS, postcode="NR8 9ZZ"),
    # one person whose NHS number is valid in one source and mistyped in the other
    _rec("las:990009", "Cyril", "Ombersley", "1935-06-21", sex="M", nhs=valid_nhs(77),
         postcode="NR9 3HG"),
    _rec("provider:carer:QX6", "Cyril", "Ombersley", "1935-06-21", sex="M",
         nhs=MISTYPED_NHS, postcode="NR9 3HG"),
    # one person each: an old-fashioned or short diminutive in one source, the formal name
    # (or another spelling of it) in the other, and no NHS number to outvote the first name
    _rec("las:990010", "Marjorie", "Thistlewood", "1935-05-07", sex="F", postcode="NR10 4JB"),
    _rec("provider:carer:QX7", "Marge", "Thistlewood", "1935-05-07", sex="F",
         postcode="NR10 4JB"),
    _rec("las:990011", "Maureen", "Gallowbrook", "1964-05-20", sex="F", postcode="NR11 7FT"),
    _rec("provider:carer:QX8", "Mo", "Gallowbrook", "1964-05-20", sex="F", postcode="NR11 7FT"),
    _rec("las:990012", "Katherine", "Pellingham", "1958-09-03", sex="F", postcode="NR12 8AX"),
    _rec("provider:carer:QX9", "Kathy", "Pellingham", "1958-09-03", sex="F",
         postcode="NR12 8AX"),
    # twins whose names share a diminutive (Nell is Ellen or Helen) but not a formal form
    _rec("las:990013", "Ellen", "Wrexbury", "1952-03-14", sex="F", postcode="NR13 5QE"),
    _rec("las:990014", "Helen", "Wrexbury", "1952-03-14", sex="F", postcode="NR13 5QE"),
]


@pytest.fixture(scope="module")
def person_of(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("hard")
    generate_county(root / "county", carers=600, seed=31, first_night=NIGHT, nights=1)
    staged = stage_county(root / "county", extract_date=NIGHT, work_dir=root / "work")
    county = person_records(staged)
    settings, meta = load_model(train_model(county, out_dir=root / "models",
                                            trained_on=NIGHT.isoformat()))
    records = pd.concat([county, pd.DataFrame(CASES, columns=RECORD_COLUMNS)],
                        ignore_index=True)
    result = cluster_records(records, settings, model_threshold(meta),
                             cannot=cannot_link(records, staged))
    return dict(zip(result.clusters.source_record_key, result.clusters.cluster_id,
                    strict=True))


def _same(person_of: dict[str, str], a: str, b: str) -> bool:
    return person_of[a] == person_of[b]


def test_partners_stay_apart_and_the_same_person_links(person_of) -> None:
    assert not _same(person_of, "las:990001", "las:990002")
    assert not _same(person_of, "las:990001", "provider:carer:QX1")
    assert _same(person_of, "las:990002", "provider:carer:QX1")


def test_parent_and_child_of_one_name_stay_apart(person_of) -> None:
    assert not _same(person_of, "las:990003", "provider:carer:QX2")


def test_twins_stay_apart(person_of) -> None:
    assert not _same(person_of, "las:990004", "las:990005")


def test_nickname_links(person_of) -> None:
    assert _same(person_of, "las:990006", "provider:carer:QX3")


@pytest.mark.parametrize(("formal", "short"), [
    ("las:990010", "provider:carer:QX7"),  # Marjorie ~ Marge
    ("las:990011", "provider:carer:QX8"),  # Maureen ~ Mo
    ("las:990012", "provider:carer:QX9"),  # Katherine ~ Kathy
])
def test_diminutives_link_without_an_nhs_number(person_of, formal, short) -> None:
    assert _same(person_of, formal, short)


def test_twins_whose_names_share_only_a_diminutive_stay_apart(person_of) -> None:
    assert not _same(person_of, "las:990013", "las:990014")


def test_transposed_date_of_birth_links(person_of) -> None:
    assert _same(person_of, "las:990007", "provider:carer:QX4")


def test_invalid_nhs_numbers_are_never_evidence(person_of) -> None:
    assert not is_valid_nhs_number(INVALID_NHS)
    assert not is_valid_nhs_number(MISTYPED_NHS)
    assert not _same(person_of, "las:990008", "provider:carer:QX5")
    # a mistyped number is dropped, and the rest of the record still links the person
    assert _same(person_of, "las:990009", "provider:carer:QX6")
