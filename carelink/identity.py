"""Normalisation of the identifiers people are recognised by: NHS numbers, postcodes, names,
dates of birth and sex codes.

Shared by the source readers (to stage clean values), the generator (to make valid NHS
numbers) and linkage (to compare like with like), so that every stage agrees on what a
"valid NHS number" or a "normalised postcode" is.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

# Strings the provider's export (and people generally) use for "not recorded".
MISSING_TOKENS = frozenset({"", "NULL", "N/A", "-", "NA", "n/a", "null"})

_NON_DIGIT = re.compile(r"\D")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_NAME_JUNK = re.compile(r"[^A-Z -]")
_SPACES = re.compile(r"\s+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.]+(?:Z|[+-][0-9:]+)?)?$")
_EMIS_DAY = re.compile(r"^[0-9]{1,2}$")
_EMIS_YEAR = re.compile(r"^[0-9]{4}$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}


def is_missing(value: object) -> bool:
    """True for None, NaN and the textual "not recorded" markers."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and value.strip() in MISSING_TOKENS


def clean_text(value: object) -> str | None:
    """Trimmed text with internal runs of white space folded, or None when not recorded.

    Control characters (a NUL from a broken export) are dropped: they carry nothing, and
    PostgreSQL refuses a NUL in text, which would fail a whole source's load in production
    while the embedded DuckDB warehouse took it.
    """
    if is_missing(value):
        return None
    text = _SPACES.sub(" ", _CONTROLS.sub("", str(value)).strip())
    return text or None


# --- NHS numbers -----------------------------------------------------------------------------


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for nine digits; None when no valid check digit exists (10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_digits(value: object) -> str | None:
    """The NHS number as supplied with spaces and punctuation removed (None if empty).

    Kept even when invalid: the contract's GP record key uses the number as supplied.
    """
    if is_missing(value):
        return None
    digits = _NON_DIGIT.sub("", str(value))
    return digits or None


def is_valid_nhs_number(value: object) -> bool:
    """Ten digits passing the Modulus 11 check, and not in the 999 test range.

    Numbers beginning 999 are issued for testing only; in live records they are data-entry
    placeholders, so they are never treated as identifying anyone.
    """
    digits = nhs_digits(value)
    if digits is None or len(digits) != 10 or digits.startswith("999"):
        return False
    if len(set(digits)) == 1:  # 0000000000 etc. pass Modulus 11 but are placeholders
        return False
    check = nhs_check_digit(digits[:9])
    return check is not None and check == int(digits[9])


def normalise_nhs_number(value: object) -> tuple[str | None, bool]:
    """(digits as supplied, valid?)."""
    digits = nhs_digits(value)
    return digits, digits is not None and is_valid_nhs_number(digits)


# --- postcodes -------------------------------------------------------------------------------


def normalise_postcode(value: object) -> str | None:
    """Upper case with exactly one space before the inward code (`NR1 3QU`).

    Text that is not shaped like a UK postcode is returned upper-cased and without spaces so
    that it can still be compared, but `is_valid_postcode` will say no.
    """
    if is_missing(value):
        return None
    compact = re.sub(r"[^A-Z0-9]", "", str(value).upper())
    if not compact:
        return None
    match = _POSTCODE.match(compact)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    return compact


def is_valid_postcode(value: object) -> bool:
    if is_missing(value):
        return False
    return bool(_POSTCODE.match(re.sub(r"[^A-Z0-9]", "", str(value).upper())))


def postcode_parts(postcode: str | None) -> tuple[str | None, str | None, str | None]:
    """(area, outward, sector) for a normalised postcode: ("NR", "NR1", "NR1 3")."""
    if not postcode or " " not in postcode:
        return None, None, None
    outward, inward = postcode.split(" ", 1)
    area = re.match(r"^[A-Z]+", outward)
    return (area.group(0) if area else None), outward, f"{outward} {inward[:1]}"


# --- names -----------------------------------------------------------------------------------


# Before the accent fold: letters NFKD does not decompose (it would drop `Ł` from `Łukasz`),
# and the apostrophes and dashes phones and word processors type (`O’Connor` is `O'Connor`).
_NAME_FOLD = str.maketrans({
    "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ı": "i",
    "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss", "Þ": "TH", "þ": "th",
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "‐": "-", "‑": "-", "–": "-", "—": "-",
})


def normalise_name(value: object) -> str | None:
    """Upper case ASCII letters, hyphens and single spaces (`O'Neill` → `ONEILL`).

    Accents are folded (`Zoë` → `ZOE`) and apostrophes dropped because one system often
    drops them (`ONeill`), and a name must compare and block the same either way.
    """
    text = clean_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKD", text.translate(_NAME_FOLD))
    text = _NAME_JUNK.sub("", text.encode("ascii", "ignore").decode().upper())
    text = _SPACES.sub(" ", text).strip(" -")
    return text or None


def display_name(value: object) -> str | None:
    """Trimmed text as typed, for staging (the source's own spelling kept)."""
    return clean_text(value)


# --- dates -----------------------------------------------------------------------------------


class DateFormatError(ValueError):
    """A date that does not match its source's documented format.

    The message names the format, never the value: the value may be a date of birth, and an
    exception that escapes its caller ends up in a task log or a traceback."""


def parse_date_dmy(value: object) -> date | None:
    """`DD/MM/YYYY` (provider extract)."""
    text = clean_text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise DateFormatError("expected DD/MM/YYYY") from None


def parse_date_iso(value: object) -> date | None:
    """`YYYY-MM-DD` (SystmOne, LAS)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean_text(value)
    if text is None:
        return None
    # Only `YYYY-MM-DD`, optionally with a time (a DATE a driver hands over as a timestamp
    # string). `date.fromisoformat` alone also takes `19560307`, week dates (`2026-W01-1`)
    # and, on the first ten characters, any trailing junk: each a different export format
    # that must quarantine the row, not be read as some date.
    if not _ISO_DATE.match(text):
        raise DateFormatError("expected YYYY-MM-DD")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise DateFormatError("expected YYYY-MM-DD") from None


def parse_date_emis(value: object) -> date | None:
    """`DD-Mon-YYYY` (EMIS Web), e.g. `07-Mar-1956`; month names in any case."""
    text = clean_text(value)
    if text is None:
        return None
    parts = text.split("-")
    # The year must have four digits: a file re-saved through Excel comes back as
    # `07-Mar-56`, which `int()` would read as the year 56 and stage as a real date.
    if len(parts) == 3 and parts[1][:3].upper() in _MONTHS and len(parts[1]) == 3 \
            and _EMIS_DAY.match(parts[0]) and _EMIS_YEAR.match(parts[2]):
        try:
            return date(int(parts[2]), _MONTHS[parts[1].upper()], int(parts[0]))
        except ValueError:
            raise DateFormatError("not a real date (DD-Mon-YYYY)") from None
    raise DateFormatError("expected DD-Mon-YYYY")


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 timestamp without zone (UK local time, kept naive)."""
    if isinstance(value, datetime):
        return value
    text = clean_text(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise DateFormatError("expected an ISO 8601 timestamp") from None


def parse_date_flexible(value: object) -> date | None:
    """`YYYY-MM-DD` or `DD/MM/YYYY` (the `carelink link` input contract)."""
    text = clean_text(value)
    if text is None:
        return None
    if "/" in text:
        return parse_date_dmy(text)
    return parse_date_iso(text)


# --- sex -------------------------------------------------------------------------------------

_SEX = {
    "F": "F", "FEMALE": "F", "M": "M", "MALE": "M",
    "X": "X", "OTHER": "X", "I": "X", "INDETERMINATE": "X",
    "U": "U", "UNKNOWN": "U", "NOT KNOWN": "U", "NOT RECORDED": "U",
}  # fmt: skip


def normalise_sex(value: object) -> str:
    """F, M, X (other / indeterminate) or U (unknown) from any source's coding."""
    text = clean_text(value)
    if text is None:
        return "U"
    return _SEX.get(text.upper(), "U")


# The age bands every published table uses (marts and the IG report), so that a band in one
# means the same people as in the other.
AGE_BANDS = ((0, 18, "0-17"), (18, 35, "18-34"), (35, 50, "35-49"), (50, 65, "50-64"),
             (65, 75, "65-74"), (75, 85, "75-84"), (85, 200, "85+"))


def age_band(dob: object, on: date) -> str | None:
    """The band of someone born on `dob` as at `on`; None when the date of birth is unknown."""
    if dob is None or dob != dob:  # None, NaN or NaT: unknown
        return None
    years = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    for low, high, label in AGE_BANDS:
        if low <= years < high:
            return label
    return None
