"""Canonical records: name parsing, nicknames and the contract's record keys."""

from __future__ import annotations

import pytest
from linkage_helpers import empty_staged, staged_frame, valid_nhs

from linkage.records import (
    canonical_first_name,
    nicknames,
    normalise_address,
    parse_free_text_name,
    person_records,
)


def test_free_text_names_from_emis() -> None:
    assert parse_free_text_name("Mrs J Smith") == ("J", "SMITH")
    assert parse_free_text_name("John Smith (husband)") == ("JOHN", "SMITH")
    assert parse_free_text_name("SMITH, John") == ("JOHN", "SMITH")
    assert parse_free_text_name("Mary O'Neill-Jones") == ("MARY", "ONEILL-JONES")
    # a generational suffix is no surname (seen on an independent county: `John Smith Jr`)
    assert parse_free_text_name("Mr John Smith Jr (son)") == ("JOHN", "SMITH")
    assert parse_free_text_name("John Smith Snr") == ("JOHN", "SMITH")
    assert parse_free_text_name("J Smith Junior") == ("J", "SMITH")
    assert parse_free_text_name("  ") == (None, None)


def test_free_text_names_as_receptionists_type_them() -> None:
    """Middle names and initials, unbracketed relationship words and notes, a date of birth
    or number typed in, particles: each of these once put an initial, `WIFE` or `DOB` into
    the surname, so the mention shared no surname with the person's other records."""
    cases = {
        "Mrs J A Smith": ("J", "SMITH"),
        "Mr J. A. Smith": ("J", "SMITH"),
        "Mary Ann Smith": ("MARY", "SMITH"),
        "SMITH, Mary Ann": ("MARY", "SMITH"),
        "Smith, Mrs J": ("J", "SMITH"),
        "John Smith husband": ("JOHN", "SMITH"),
        "Mrs J Smith - wife": ("J", "SMITH"),
        "Jean Smith/wife": ("JEAN", "SMITH"),
        "Jean Smith [wife]": ("JEAN", "SMITH"),
        "Jean Smith, dementia": ("JEAN", "SMITH"),
        "Dad - John Smith": ("JOHN", "SMITH"),
        "my mum (Jean Smith)": ("JEAN", "SMITH"),
        "Mr P van der Berg": ("P", "VAN DER BERG"),
        "Maria De Souza": ("MARIA", "DE SOUZA"),
        "Mrs Jean Smith-Jones": ("JEAN", "SMITH-JONES"),
        "Zoë Brontë": ("ZOE", "BRONTE"),
        "Nan Smith": ("NAN", "SMITH"),  # two words: a relationship word is a name here
        "Mrs Smith": (None, "SMITH"),
        "SMITH J A": ("J", "SMITH"),
        "Jean Smith DOB 07-Mar-1931": ("JEAN", "SMITH"),
        "Jean Smith d.o.b. 1931-03-07": ("JEAN", "SMITH"),
        "Jean Smith (wife) NHS 943 476 5919": ("JEAN", "SMITH"),
    }
    assert {text: parse_free_text_name(text) for text in cases} == cases


def test_nicknames_share_a_canonical_form() -> None:
    assert canonical_first_name("BOB") == canonical_first_name("ROBERT") == "ROBERT"
    assert canonical_first_name("PEGGY") == "MARGARET"
    assert canonical_first_name("BILL") == "WILLIAM"
    assert canonical_first_name("LIZ") == "ELIZABETH"
    assert canonical_first_name("XANTHE") == "XANTHE"


def _nickname_equal(a: str, b: str) -> bool:
    """As the model's nickname level compares them: the two names share a formal form."""
    return bool(set(canonical_first_name(a).split()) & set(canonical_first_name(b).split()))


@pytest.mark.parametrize(("a", "b"), [
    # diminutives and pet forms seen unlinked on independently written county data
    ("ANGIE", "ANGELA"), ("MO", "MAUREEN"), ("KATHY", "KATHERINE"), ("NORA", "ELEANOR"),
    ("ANNIE", "ANNE"), ("ERNIE", "ERNEST"), ("CLIFF", "CLIFFORD"), ("EDIE", "EDITH"),
    ("MARGE", "MARJORIE"), ("MADGE", "MARJORIE"), ("MADGE", "MARGARET"), ("PHYL", "PHYLLIS"),
    ("NELLIE", "ELLEN"), ("NELL", "HELEN"), ("LIL", "LILLIAN"), ("LILY", "LILIAN"),
    ("VI", "VIOLET"), ("FLORRIE", "FLORENCE"), ("FLORRIE", "FLO"), ("TRIXIE", "BEATRICE"),
    ("TESS", "THERESA"), ("TERRI", "TERESA"), ("GED", "GERALD"), ("MAL", "MALCOLM"),
    ("VINCE", "VINCENT"), ("LIBBY", "ELIZABETH"), ("RITA", "MARGARET"), ("DEBS", "DEBRA"),
    ("SAL", "SARAH"), ("SAL", "SALLY"), ("TINA", "CHRISTINA"), ("NANCY", "ANN"),
    ("PEGGY", "MARGARET"), ("POLLY", "MARY"), ("MOLLY", "MARY"), ("SADIE", "SARAH"),
    ("BESSIE", "ELIZABETH"), ("JACK", "JOHN"), ("HARRY", "HENRY"), ("TED", "EDWARD"),
    ("NED", "EDWARD"), ("BERT", "HERBERT"), ("ALF", "ALFRED"), ("REG", "REGINALD"),
    ("WILF", "WILFRED"),
    # spellings of one name, and a diminutive against either spelling
    ("CATHERINE", "KATHRYN"), ("KATE", "KATHARINE"), ("ANN", "ANNE"), ("STEVEN", "STEPHEN"),
    ("STEVE", "STEVEN"), ("GEOFFREY", "JEFFREY"), ("GEOFF", "JEFFREY"), ("PHILIP", "PHILLIP"),
    ("SARA", "SARAH"), ("SAL", "SARA"), ("ALLAN", "ALAN"), ("SHAUN", "SEAN"),
    ("ISOBEL", "ISABEL"), ("IZZY", "ISOBEL"), ("TRACY", "TRACEY"), ("CLARE", "CLAIRE"),
    ("MOHAMMAD", "MUHAMMAD"), ("MO", "MOHAMMED"),
    # seen unlinked on an independently written county at evaluation scale (helper J)
    ("BERT", "ROBERT"), ("KAY", "KATHLEEN"), ("SYL", "SYLVIA"), ("ALBY", "ALBERT"),
])
def test_common_diminutives_and_spellings_are_nickname_equal(a: str, b: str) -> None:
    assert _nickname_equal(a, b)


@pytest.mark.parametrize(("a", "b"), [
    # different names twins or siblings could carry: a shared diminutive (CHRIS, NELL, GED,
    # MADGE) makes each equal to it, never to each other
    ("DANIELLE", "DANIEL"), ("CHRISTINE", "CHRISTOPHER"), ("FRANCES", "FRANCIS"),
    ("LOUISE", "LOUIS"), ("JOSEPHINE", "JOSEPH"), ("PATRICIA", "PATRICK"),
    ("GERALDINE", "GERALD"), ("GERALD", "GERARD"), ("NICOLA", "NICHOLAS"),
    ("SAMANTHA", "SAMUEL"), ("VICTORIA", "VICTOR"), ("STEPHANIE", "STEPHEN"),
    ("GEORGINA", "GEORGE"), ("BERNADETTE", "BERNARD"), ("LESLEY", "LESLIE"),
    ("ELLEN", "HELEN"), ("ELEANOR", "HELEN"), ("MARJORIE", "MARGARET"), ("MARY", "MARGARET"),
    ("KATHLEEN", "CATHERINE"), ("JANET", "JANICE"), ("JEAN", "JOAN"), ("JEAN", "JANE"),
    ("EDWARD", "EDMUND"), ("HENRY", "HAROLD"), ("MAUREEN", "MAURICE"), ("CAROL", "CAROLINE"),
])
def test_different_names_sharing_a_diminutive_stay_different(a: str, b: str) -> None:
    assert not _nickname_equal(a, b)


def test_nickname_table_forms_are_formal_names() -> None:
    """A nickname's forms are formal names, which map only to themselves: a form that were
    itself a nickname (KATHERINE → CATHERINE) would hide the equality of the names sharing
    it (KATE → KATHERINE against CATHERINE), and the table would compare unlike names."""
    table = nicknames()
    for nickname, forms in table.items():
        assert len(set(forms)) == len(forms), nickname
        for form in forms:
            assert table.get(form, (form,)) == (form,), (nickname, form)


def test_address_abbreviations_expand() -> None:
    assert normalise_address("12 High St, Norwich") == "12 HIGH STREET"
    assert normalise_address("12 high street") == "12 HIGH STREET"


NHS = valid_nhs(1)


def test_record_keys_follow_the_contract() -> None:
    staged = empty_staged()
    staged["provider_carer"] = staged_frame("provider_carer", [
        {"carer_ref": "CR1", "first_name": "Bob", "last_name": "Smith",
         "date_of_birth": "1950-01-02", "nhs_number": "1234567890", "sex": "M",
         "information_sharing": "Declined", "postcode": "NR1 3QU"}])
    staged["provider_cared_for"] = staged_frame("provider_cared_for", [
        {"cared_for_ref": "CF1", "carer_ref": "CR1", "first_name": "Ann", "last_name": "Smith"}])
    staged["las_person"] = staged_frame("las_person", [
        {"person_id": 7, "forename": "Ann", "surname": "Smith", "sex": "F"}])
    staged["gp_register_entry"] = staged_frame("gp_register_entry", [
        {"practice_ods": "D1", "entry_number": 1, "nhs_number": NHS,
         "first_name": "Bob", "last_name": "Smith", "sex": "M",
         "cared_for_name": "Mrs A Smith"},
        {"practice_ods": "D1", "entry_number": 2, "nhs_number": NHS,
         "first_name": "Bob", "last_name": "Smith", "sex": "M",
         "cared_for_first_name": "Tom", "cared_for_last_name": "Smith",
         "cared_for_date_of_birth": "2001-05-06"},
        {"practice_ods": "D1", "entry_number": 3, "nhs_number": None, "first_name": "X"}])
    recs = person_records(staged).set_index("source_record_key")
    assert set(recs.index) == {
        "provider:carer:CR1", "provider:cared_for:CF1", "las:7", f"gp:D1:{NHS}",
        f"gp:D1:{NHS}:cared_for:1", f"gp:D1:{NHS}:cared_for:2"}
    carer = recs.loc["provider:carer:CR1"]
    assert carer["first_name_alt"] == "ROBERT"
    assert carer["nhs_number"] is None or carer["nhs_number"] != carer["nhs_number"]  # invalid
    assert carer["postcode_district"] == "NR1" and carer["postcode_sector"] == "NR1 3"
    assert bool(recs.loc["provider:cared_for:CF1", "information_sharing_declined"])
    assert recs.loc[f"gp:D1:{NHS}:cared_for:1", "first_name"] == "A"
    assert recs.loc[f"gp:D1:{NHS}:cared_for:2", "date_of_birth"] == "2001-05-06"


def test_nicknames_are_many_to_many() -> None:
    """CHRIS is Christopher or Christine: both forms, primary first."""
    assert canonical_first_name("CHRIS") == "CHRISTOPHER CHRISTINE"
    assert canonical_first_name("PENNY") == "PENELOPE"


def test_a_rare_slip_of_a_common_name_gains_its_forms() -> None:
    import pandas as pd

    from linkage.records import correct_first_name_slips

    names = ["DAVE"] * 30 + ["DAVID"] * 30 + ["DAAVE", "XANTHE", "DVAE"]
    frame = pd.DataFrame({"first_name": names,
                          "first_name_alt": [canonical_first_name(n) for n in names]})
    alt = dict(zip(frame["first_name"], correct_first_name_slips(frame)["first_name_alt"],
                   strict=True))
    assert alt["DAAVE"] == "DAAVE DAVID"  # one letter doubled: Dave
    assert alt["DVAE"] == "DVAE DAVID"  # two letters transposed
    assert alt["XANTHE"] == "XANTHE"  # a rare real name near nothing common stays itself
    assert alt["DAVE"] == "DAVID"


def test_a_slip_of_a_rare_nickname_or_of_two_forms_of_one_name_gains_the_shared_forms(
) -> None:
    """KATH is rare tonight but Kathleen is common, so `KASH` is taken as a slip of Kath;
    `DAVD` is one slip from both Dave and David (tonight's counts alone cannot choose), and
    both are David; `DANE` is one slip from Dave and Jane, which share nothing: left alone."""
    import pandas as pd

    from linkage.records import correct_first_name_slips

    names = (["KATH"] * 3 + ["KATHLEEN"] * 40 + ["DAVE"] * 30 + ["DAVID"] * 30
             + ["JANE"] * 30 + ["KASH", "DAVD", "DANE"])
    frame = pd.DataFrame({"first_name": names,
                          "first_name_alt": [canonical_first_name(n) for n in names]})
    alt = dict(zip(frame["first_name"], correct_first_name_slips(frame)["first_name_alt"],
                   strict=True))
    assert "KATHLEEN" in alt["KASH"].split()
    assert alt["DAVD"] == "DAVD DAVID"
    assert alt["DANE"] == "DANE"


def test_sex_from_a_free_text_title_or_relationship() -> None:
    from linkage.records import free_text_sex

    assert free_text_sex("Mrs J Smith") == "F"
    assert free_text_sex("John Smith (husband)") == "M"
    assert free_text_sex("SMITH, John") is None
    assert free_text_sex("Mr J Smith (wife)") is None  # contradicts itself: no evidence


def test_a_record_keyed_surname_first_is_turned_round_when_the_batch_shows_it() -> None:
    import pandas as pd

    from linkage.records import correct_swapped_names

    people = ([("TINA", "QUANTRILL"), ("JOHN", "QUANTRILL"), ("SUSAN", "SMITH")] * 3
              + [("SUSAN", "JONES")] * 3 + [("OLUWASEUN", "JAMES"), ("JAMES", "TAYLOR"),
                                           ("PETER", "TAYLOR"), ("MARY", "JAMES")]
              + [("QUANTRILL", "TINA"), ("SMITH", "SUSAN"), ("TAYLOR", "JAMES")])
    frame = pd.DataFrame(people, columns=["first_name", "last_name"])
    frame["first_name_alt"] = [canonical_first_name(n) for n in frame["first_name"]]
    out = correct_swapped_names(frame)
    got = list(zip(out["first_name"], out["last_name"], strict=True))
    assert got[-3:-1] == [("TINA", "QUANTRILL"), ("SUSAN", "SMITH")]
    assert out["first_name_alt"].iloc[-2] == canonical_first_name("SUSAN")
    # JAMES is a given name and a surname here: TAYLOR JAMES proves nothing either way
    assert got[-1] == ("TAYLOR", "JAMES")
    assert ("OLUWASEUN", "JAMES") in got  # a rare given name stays as typed
    assert got[:-3] == people[:-3]


def test_swapped_names_are_left_alone_in_a_batch_too_small_to_show_anything() -> None:
    import pandas as pd

    from linkage.records import correct_swapped_names

    frame = pd.DataFrame({"first_name": ["SMITH", "SUSAN"], "last_name": ["SUSAN", "SMITH"],
                          "first_name_alt": ["SMITH", "SUSAN"]})
    assert correct_swapped_names(frame).equals(frame)


def test_a_free_text_relationship_alone_names_nobody() -> None:
    from linkage.records import gp_cared_for, parse_free_text_name

    for text in ("wife", "Mum", "my son", "(husband)", "Friend"):
        assert parse_free_text_name(text) == (None, None), text
        assert gp_cared_for({"cared_for_name": text}) is None, text
    assert parse_free_text_name("Mrs J Friend") == ("J", "FRIEND")  # a surname stays one
    assert gp_cared_for({"cared_for_name": "wife", "cared_for_nhs_number": "9434765919"})


def test_gp_cared_for_keys_count_the_patients_own_rows_in_file_order() -> None:
    """The contract's k is the patient's k-th row of the file, not the row's place in it."""
    import pandas as pd

    from linkage.records import gp_cared_for_keys
    from tests.support.identifiers import valid_nhs

    a, b = valid_nhs(1), valid_nhs(2)
    gp = pd.DataFrame({
        "practice_ods": ["D1", "D1", "D1", "D1", "D2"],
        "source_file": ["D1_202611.csv"] * 4 + ["D2_202611.csv"],
        "entry_number": [9, 5, 7, 8, 1],
        "nhs_number": [a, a, b, None, a],
    })
    assert gp_cared_for_keys(gp).tolist() == [
        f"gp:D1:{a}:cared_for:2", f"gp:D1:{a}:cared_for:1", f"gp:D1:{b}:cared_for:1", None,
        f"gp:D2:{a}:cared_for:1"]


def test_a_first_name_that_is_a_relationship_word_is_no_name() -> None:
    import pandas as pd

    from linkage.records import cared_for_first_name, gp_cared_for

    assert cared_for_first_name(" Mum ") == (None, "F")
    assert cared_for_first_name("Dad") == (None, "M")
    assert cared_for_first_name("Nan") == ("NAN", None)  # also a given name
    assert cared_for_first_name("Joan") == ("JOAN", None)
    assert gp_cared_for({"cared_for_first_name": "Wife"}) is None  # SystmOne: names nobody
    assert gp_cared_for({"cared_for_first_name": "Wife", "cared_for_last_name": "Smith"})[:2] \
        == (None, "SMITH")
    staged = empty_staged()
    staged["provider_carer"] = staged_frame("provider_carer", [
        {"carer_ref": "CR1", "first_name": "Joan", "last_name": "Hill",
         "information_sharing": "Agreed"}])
    staged["provider_cared_for"] = staged_frame("provider_cared_for", [
        {"cared_for_ref": "CF1", "carer_ref": "CR1", "first_name": "Mum", "last_name": "Hill",
         "date_of_birth": "1930-02-03"}])
    rec = person_records(staged).set_index("source_record_key").loc["provider:cared_for:CF1"]
    assert pd.isna(rec["first_name"]) and rec["last_name"] == "HILL" and rec["sex"] == "F"


def test_a_note_or_birth_name_in_a_surname_field_is_left_out() -> None:
    from linkage.records import recorded_surname

    assert recorded_surname("Smith (wife)") == "SMITH"
    assert recorded_surname("Smith (nee Jones)") == recorded_surname("Smith née Jones") == "SMITH"
    assert recorded_surname("Neeson") == "NEESON"
    assert recorded_surname("(Smith)") == "SMITH"
    assert recorded_surname("  ") is None


def test_the_opt_out_fails_closed() -> None:
    """Only a plain `Agreed` lets a file be linked: a value the specification does not know
    (a pick-list change), and a cared-for row whose carer row was quarantined, count as
    declined, so an unexpected value can never link someone who refused."""
    staged = empty_staged()
    choices = {"CR1": "Agreed", "CR2": " agreed ", "CR3": "Declined", "CR4": "Declined (verbal)",
               "CR5": "Yes", "CR6": ""}
    staged["provider_carer"] = staged_frame("provider_carer", [
        {"carer_ref": ref, "first_name": "Ann", "last_name": "Smith",
         "information_sharing": value} for ref, value in choices.items()])
    staged["provider_cared_for"] = staged_frame("provider_cared_for", [
        {"cared_for_ref": "CF1", "carer_ref": "CR1", "first_name": "Tom", "last_name": "Smith"},
        {"cared_for_ref": "CF9", "carer_ref": "CR9", "first_name": "Tom", "last_name": "Smith"}])
    declined = person_records(staged).set_index("source_record_key")[
        "information_sharing_declined"].astype(bool).to_dict()
    assert declined == {
        "provider:carer:CR1": False, "provider:carer:CR2": False, "provider:carer:CR3": True,
        "provider:carer:CR4": True, "provider:carer:CR5": True, "provider:carer:CR6": True,
        "provider:cared_for:CF1": False, "provider:cared_for:CF9": True}
    from carelink.codelists import declined_carer_refs

    assert declined_carer_refs(staged["provider_carer"]) == {"CR3", "CR4", "CR5", "CR6"}
