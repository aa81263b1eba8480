import traceback
from datetime import date

import pytest

from carelink import identity as idn


@pytest.mark.parametrize(
    "raw, valid",
    [
        ("943 476 5919", True),
        ("9434765919", True),
        ("9434765918", False),  # wrong check digit
        ("943476591", False),  # nine digits
        ("9999999999", False),  # 999 test range / placeholder
        ("9990000018", False),  # 999 test range even when Modulus 11 passes
        ("0000000000", False),
        ("", False),
        ("NULL", False),
        (None, False),
    ],
)
def test_nhs_number_validity(raw, valid):
    assert idn.is_valid_nhs_number(raw) is valid


def test_check_digit_ten_means_no_valid_number():
    # Nine digits whose weighted sum leaves check digit 10 can never form a valid number.
    nine = next(
        f"{n:09d}" for n in range(100000000, 100001000) if idn.nhs_check_digit(f"{n:09d}") is None
    )
    assert all(not idn.is_valid_nhs_number(nine + str(d)) for d in range(10))


def test_nhs_digits_keeps_invalid_numbers_as_supplied():
    assert idn.normalise_nhs_number("943 476 5918") == ("9434765918", False)


@pytest.mark.parametrize(
    "raw, expected",
    [("nr1 3qu", "NR1 3QU"), ("NR13QU", "NR1 3QU"), (" pe30  1ab ", "PE30 1AB"),
     ("IP24 2AB", "IP24 2AB"), ("not a postcode", "NOTAPOSTCODE"), ("-", None)],
)
def test_postcode_normalisation(raw, expected):
    assert idn.normalise_postcode(raw) == expected


def test_postcode_parts():
    assert idn.postcode_parts("NR1 3QU") == ("NR", "NR1", "NR1 3")
    assert idn.postcode_parts(None) == (None, None, None)


@pytest.mark.parametrize(
    "raw, expected",
    [("  o'neill ", "ONEILL"), ("O’Neill", "ONEILL"), ("ONeill", "ONEILL"),
     ("Smith-Jones", "SMITH-JONES"), ("Smith–Jones", "SMITH-JONES"), ("Zoë", "ZOE"),
     ("Łukasz", "LUKASZ"), ("Søren", "SOREN"), ("Straße", "STRASSE"), ("N/A", None),
     ("Mary  Ann", "MARY ANN")],
)
def test_name_normalisation(raw, expected):
    assert idn.normalise_name(raw) == expected


def test_date_parsers_per_source_format():
    assert idn.parse_date_dmy("07/03/1956") == date(1956, 3, 7)
    assert idn.parse_date_emis("07-Mar-1956") == date(1956, 3, 7)
    assert idn.parse_date_emis("07-MAR-1956") == date(1956, 3, 7)
    assert idn.parse_date_iso("1956-03-07") == date(1956, 3, 7)
    # A DATE a driver hands over as a timestamp string is still that date.
    assert idn.parse_date_iso("1956-03-07 00:00:00") == date(1956, 3, 7)
    assert idn.parse_date_iso("1956-03-07T10:15:00.5") == date(1956, 3, 7)
    assert idn.parse_date_emis("7-Mar-1956") == date(1956, 3, 7)
    assert idn.parse_date_flexible("07/03/1956") == idn.parse_date_flexible("1956-03-07")
    assert idn.parse_date_dmy("NULL") is None


@pytest.mark.parametrize(
    "parser, raw",
    [(idn.parse_date_dmy, "1956-03-07"), (idn.parse_date_dmy, "31/02/2020"),
     (idn.parse_date_emis, "07/03/1956"), (idn.parse_date_emis, "31-Feb-2020"),
     (idn.parse_date_iso, "07-03-1956"),
     # An Excel re-save shortens EMIS years: `07-Mar-56` is not the year 56.
     (idn.parse_date_emis, "07-Mar-56"), (idn.parse_date_emis, "07-Mar-195"),
     # Other ISO shapes `date.fromisoformat` would take are not the spec's YYYY-MM-DD.
     (idn.parse_date_iso, "19560307"), (idn.parse_date_iso, "1956-W10-3"),
     (idn.parse_date_iso, "1956-03-07x")],
)
def test_date_parsers_reject_other_formats(parser, raw):
    with pytest.raises(idn.DateFormatError) as refused:
        parser(raw)
    # The value may be a date of birth: neither the message nor a chained cause (which a
    # task log's traceback prints) may carry it.
    assert raw not in "".join(traceback.format_exception(refused.value))


@pytest.mark.parametrize(
    "raw, expected",
    [("F", "F"), ("Female", "F"), ("M", "M"), ("Male", "M"), ("I", "X"),
     ("Indeterminate", "X"), ("Other", "X"), ("X", "X"), ("Unknown", "U"), ("", "U"), ("?", "U")],
)
def test_sex_codes_from_every_source(raw, expected):
    assert idn.normalise_sex(raw) == expected


def test_clean_text_drops_control_characters() -> None:
    """A NUL from a broken export: PostgreSQL refuses it in text, so one byte in one name
    would fail a whole source's load in production."""
    from carelink.identity import clean_text

    assert clean_text("Jo\x00an\x1f ") == "Joan"
    assert clean_text("Mary\tAnn\r\nSmith") == "Mary Ann Smith"
    assert clean_text("\x00") is None
