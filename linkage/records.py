"""Canonical person records: one row per mention of a person in any source.

Linkage compares like with like, so every source's way of naming, dating and addressing a
person is turned into the same columns here, once, with the shared normalisers in
`carelink.identity`. Everything downstream (the Splink model, the guards, the keys and the
relationships) works from this one frame and its `source_record_key`, which follows the
warehouse contract's formats.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd

from carelink.codelists import declines_sharing
from carelink.identity import (
    clean_text,
    is_missing,
    is_valid_nhs_number,
    nhs_digits,
    normalise_name,
    normalise_postcode,
    normalise_sex,
    postcode_parts,
)

RECORD_COLUMNS = [
    "source_record_key", "source", "role", "first_name", "last_name", "first_name_alt",
    "date_of_birth", "nhs_number", "postcode", "postcode_guessed", "postcode_sector",
    "postcode_district",
    "address", "sex", "information_sharing_declined", "carer_ref",
]  # fmt: skip

_NICKNAMES_FILE = Path(__file__).with_name("nicknames.csv")
_TITLES = {"MR", "MRS", "MISS", "MS", "DR", "MX", "REV", "SIR", "LADY", "PROF", "MASTER"}
_STREET_WORDS = {
    "RD": "ROAD", "ST": "STREET", "AVE": "AVENUE", "AV": "AVENUE", "LN": "LANE",
    "CL": "CLOSE", "DR": "DRIVE", "CRES": "CRESCENT", "CT": "COURT", "PL": "PLACE",
    "GDNS": "GARDENS", "GRN": "GREEN", "SQ": "SQUARE", "TER": "TERRACE", "TERR": "TERRACE",
    "WY": "WAY", "GR": "GROVE", "PK": "PARK", "HL": "HILL",
}  # fmt: skip
_BRACKETED = re.compile(r"\([^)]*\)|\[[^]]*\]|\{[^}]*\}")
_FEMALE_WORDS = {"MRS", "MISS", "MS", "LADY", "WIFE", "MOTHER", "MUM", "DAUGHTER", "SISTER",
                 "GRANDMOTHER", "NAN", "AUNT", "NIECE", "GRANDDAUGHTER"}
_MALE_WORDS = {"MR", "SIR", "MASTER", "HUSBAND", "FATHER", "DAD", "SON", "BROTHER",
               "GRANDFATHER", "GRANDSON", "UNCLE", "NEPHEW"}
# Words that say who a person is to their carer, not what they are called: a free text made
# only of these (and titles and fillers) names nobody, and a first name that is one is no
# name (a provider's `Mum`, a SystmOne forename `Wife`). `NAN` is also a given name.
_RELATION_WORDS = (_FEMALE_WORDS | _MALE_WORDS | {
    "PARTNER", "SPOUSE", "PARENT", "PARENTS", "CHILD", "FRIEND", "NEIGHBOUR", "RELATIVE",
    "GRANDPARENT", "GRANDCHILD", "SIBLING", "MUMMY", "DADDY", "GRANDMA", "GRANDAD",
    "GRANDDAD", "GRANDPA", "GRANNY"}) - _TITLES
# Generational suffixes typed after a name (`John Smith Jr`): they are not the surname.
_GENERATION_WORDS = {"JR", "JNR", "JUNIOR", "SR", "SNR", "SENIOR", "II", "III"}
_FILLER_WORDS = {"MY", "HIS", "HER", "THEIR", "THE", "AND", "OF", "DOB", "NHS", "NO", "BORN"}
_NEE = re.compile(r"\bn[eé]e\b", re.I)
_DATE_OR_NUMBER = re.compile(
    r"\d{1,2}[-/. ]?[A-Za-z]{3,9}[-/. ]?\d{2,4}|[\d/.-]*\d[\d/.-]*|\bd\.? ?o\.? ?b\b\.?", re.I)
# Words that begin a surname of several words (`van der Berg`, `De Souza`, `St John`).
_SURNAME_PARTICLES = {"VAN", "VON", "DER", "DEN", "DE", "DI", "DA", "DU", "DEL", "DELLA",
                      "DOS", "DAS", "LE", "LA", "ST", "AP", "AL", "EL", "BIN", "BINTI"}


@lru_cache(maxsize=1)
def nicknames() -> dict[str, tuple[str, ...]]:
    """Nickname → its formal given names (upper case), from `nicknames.csv`.

    Diminutives are many-to-many (CHRIS is Christopher or Christine, KATHY Kathleen or
    Catherine), so a nickname may have several rows; the first row is its primary form,
    which blocking uses. Formal names map to themselves implicitly.
    """
    out: dict[str, list[str]] = {}
    with _NICKNAMES_FILE.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            forms = out.setdefault(row["nickname"].strip().upper(), [])
            canonical = row["canonical"].strip().upper()
            if canonical not in forms:
                forms.append(canonical)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def known_first_names() -> frozenset[str]:
    """Every given name the nickname table knows, nickname or formal."""
    table = nicknames()
    return frozenset(table) | frozenset(f for forms in table.values() for f in forms)


def canonical_first_name(name: str | None) -> str | None:
    """The formal forms of a normalised first name (first word only), space-separated.

    `BOB` and `ROBERT` both give `ROBERT`; `CHRIS` gives `CHRISTOPHER CHRISTINE` (primary
    form first). Two names are nickname-equal when their forms share a word.
    """
    if not name:
        return None
    first = name.split(" ")[0]
    return " ".join(nicknames().get(first, (first,)))


def one_slip(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or adjacent transposition apart (4+ letters)."""
    if a == b or min(len(a), len(b)) < 3 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


# A first name that is not established, one slip away from exactly one established name (in
# the nickname table, or seen COMMON_COUNT times) seen at least COMMON_RATIO times as often,
# is taken to be a keying slip of that name (frequency-based spelling correction): `DAAVE`
# is Dave. The name as typed is kept; only the nickname forms gain the corrected name's.
# When tonight's counts alone settle nothing (no such name, or several), a name is also
# counted as "seen" by every record sharing one of its formal forms (KATH is rare on its own,
# but a slip of it, `KASH`, is far likelier Kath, of the many Kathleens, than a rare name),
# and a slip near several names gains only the formal forms they all share (`DAVD` is David
# or Dave: David); none shared (`DANE`: Dave or Jane), and it stays as typed.
COMMON_RATIO = 10
COMMON_COUNT = 20  # a name seen this often is a real name even if the table lacks it


def correct_first_name_slips(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the forms of the name a rare misspelt first name most likely is (see
    COMMON_RATIO); the counts are tonight's records, so the dictionary is the county's."""
    names = frame["first_name"].dropna()
    counts = names[names.str.len() >= 3].value_counts()
    if counts.empty:
        return frame
    known = known_first_names()
    common = {n: c for n, c in counts.items() if n in known or c >= COMMON_COUNT}
    form_counts: dict[str, int] = {}
    for name, count in counts.items():
        for form in set((canonical_first_name(name) or "").split()):
            form_counts[form] = form_counts.get(form, 0) + int(count)

    def seen(name: str) -> int:
        forms = (canonical_first_name(name) or name).split()
        return max([int(counts.get(name, 0))] + [form_counts.get(f, 0) for f in forms])

    by_length: dict[int, list[str]] = {}
    for n in common:
        by_length.setdefault(len(n), []).append(n)
    table_by_length: dict[int, list[str]] = {}
    for n in set(common) | {n for n in known if len(n) >= 3}:
        table_by_length.setdefault(len(n), []).append(n)
    lengths = (-1, 0, 1)
    fixes: dict[str, str] = {}
    for name, count in counts.items():
        if count >= COMMON_COUNT or name in known:
            continue
        near = [c for d in lengths for c in by_length.get(len(name) + d, ())
                if one_slip(name, c) and common[c] >= COMMON_RATIO * count]
        if len(near) == 1:
            fixes[name] = canonical_first_name(near[0]) or near[0]
            continue
        near = [c for d in lengths for c in table_by_length.get(len(name) + d, ())
                if one_slip(name, c) and seen(c) >= COMMON_RATIO * count]
        if not near:
            continue
        forms = [(canonical_first_name(c) or c).split() for c in near]
        shared = [f for f in forms[0] if all(f in other for other in forms[1:])]
        if shared:
            fixes[name] = " ".join(shared)
    if not fixes:
        return frame
    frame = frame.copy()
    hit = frame["first_name"].isin(list(fixes))
    frame.loc[hit, "first_name_alt"] = [
        " ".join(dict.fromkeys(f"{alt} {fixes[n]}".split()))
        for n, alt in zip(frame.loc[hit, "first_name"], frame.loc[hit, "first_name_alt"],
                          strict=True)]
    return frame


# A first name that tonight's records use as a surname SWAP_RATIO times as often as a given
# name (and at least SWAP_MIN times), over a surname used as a given name that often, shows a
# record keyed surname first.
SWAP_RATIO = 20
SWAP_MIN = 2


def correct_swapped_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Put back forename and surname on records keyed the wrong way round (`QUANTRILL TINA`).

    A swapped record shares nothing a blocking rule looks at with the same person keyed the
    right way (a different first initial, no common first or last name), so the model never
    sees the pair. Which way round is right is read from the batch itself: how often each
    word appears as a first name and as a surname on the other records. Only a record whose
    first name is plainly a surname (never a name the nickname table knows) and whose
    surname is plainly a given name is turned round, so `OLUWASEUN JAMES` (a rare given
    name, and a surname that is also a given name) and a small batch, where the counts
    prove nothing, stay as typed. Returns the frame with the two names exchanged there.
    """
    first, last = frame["first_name"], frame["last_name"]
    if first.isna().all() or last.isna().all():
        return frame
    as_first, as_last = first.value_counts(), last.value_counts()
    known = known_first_names()
    # counts on *other* records: this record adds one to its own first and last name
    f_as_first = first.map(as_first).fillna(0) - 1
    f_as_last = first.map(as_last).fillna(0)
    l_as_first = last.map(as_first).fillna(0)
    l_as_last = last.map(as_last).fillna(0) - 1
    surname_first = ((f_as_last >= SWAP_MIN) & (f_as_last >= SWAP_RATIO * f_as_first)
                     & ~first.isin(known))
    given_last = ((last.isin(known) | (l_as_first >= SWAP_MIN))
                  & (l_as_first >= SWAP_RATIO * l_as_last))
    swap = (surname_first & given_last & first.str.len().ge(2) & last.str.len().ge(2)
            & ~last.str.contains(" ", regex=False, na=True))
    if not swap.any():
        return frame
    frame = frame.copy()
    frame.loc[swap, ["first_name", "last_name"]] = frame.loc[
        swap, ["last_name", "first_name"]].to_numpy()
    frame.loc[swap, "first_name_alt"] = frame.loc[swap, "first_name"].map(canonical_first_name)
    return frame


def first_word(name: str | None) -> str | None:
    """First given name only: middle names are recorded inconsistently between sources."""
    if not name:
        return None
    return name.split(" ")[0] or None


def normalise_address(value: object) -> str | None:
    """House number and street, upper case, street-type abbreviations expanded.

    Only the first comma-separated part is kept: towns are spelt and included inconsistently
    (LAS appends the town; the provider keeps it in a separate column).
    """
    text = clean_text(value)
    if text is None:
        return None
    parts = [p.strip() for p in text.upper().split(",")]
    first = parts[0]
    if re.match(r"^(FLAT|APARTMENT|APT|UNIT|ROOM)\b", first) and len(parts) > 1:
        first = f"{first} {parts[1]}"  # "Flat 11, 49 Norwich Road": the flat is not enough
    words = re.sub(r"[^A-Z0-9 ]", " ", first).split()
    words = [_STREET_WORDS.get(w, w) for w in words]
    return " ".join(words) or None


def iso_date(value: object) -> str | None:
    """ISO `YYYY-MM-DD` text for a date-like value, None when missing or unparseable."""
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(ts):
        return None
    return ts.date().isoformat()


def valid_nhs(value: object) -> str | None:
    """The NHS number's digits when valid; invalid numbers identify nobody, so they are null."""
    digits = nhs_digits(value)
    return digits if digits and is_valid_nhs_number(digits) else None


def parse_free_text_name(text: object) -> tuple[str | None, str | None]:
    """(first name or initial, surname) from EMIS free text naming a cared-for person.

    Receptionists write `Mrs J Smith`, `John Smith (husband)`, `SMITH, John`, but also
    `Mrs J A Smith`, `SMITH J A`, `Mary Ann Smith`, `Jean Smith - wife`, `Dad: John Smith`,
    `Jean Smith DOB 07-Mar-1931`. Titles, bracketed notes, dates and numbers, and a
    relationship word at either end are dropped (a typed date is not trusted as the date of
    birth: it may as well be when the caring began); middle names and
    initials are dropped (sources record them inconsistently), so the surname is the last
    word, with any particle before it (`van der Berg`, `De Souza`); a lone initial is kept as
    the first name so that the model's "initial only" level can use it.
    """
    raw = clean_text(text)
    if raw is None:
        return None, None
    parts = [words for part in _BRACKETED.sub(" ", raw).split(",") if (words := _name_words(part))]
    if not parts:  # the name may be the bracketed note: `Mum (Jean Smith)`
        parts = [words for note in _BRACKETED.findall(raw)
                 for part in note[1:-1].split(",") if (words := _name_words(part))]
    if not parts:  # `wife`, `my son`: nobody named
        return None, None
    if len(parts) >= 2 and len(parts[0]) == 1 and len(parts[0][0]) > 1:  # `SMITH, John A`
        given = _strip_relation_words(parts[1])
        return given[0], parts[0][0]
    words = _strip_relation_words(parts[0])  # `Jean Smith, dementia`: a note follows
    while len(words) > 2 and words[-1] in _GENERATION_WORDS:  # `John Smith Jr`
        words = words[:-1]
    if len(words) == 1:
        return None, words[0]
    if len(words[0]) > 1 and all(len(w) == 1 for w in words[1:]):  # `SMITH J A`
        return words[1], words[0]
    first, rest = words[0], words[1:]
    while len(rest) > 1 and len(rest[0]) == 1:  # middle initials: `J A SMITH`
        rest = rest[1:]
    surname_from = len(rest) - 1
    while surname_from > 0 and rest[surname_from - 1] in _SURNAME_PARTICLES:
        surname_from -= 1
    return first, " ".join(rest[surname_from:])


def _name_words(text: str) -> list[str]:
    """Name words of one comma-separated part, titles and fillers left out; empty when the
    part holds nothing but titles, fillers and relationship words."""
    text = _DATE_OR_NUMBER.sub(" ", text)  # `Jean Smith DOB 07-Mar-1931`
    folded = normalise_name(re.sub(r"[^\w'’-]+|(?<!\w)-|-(?!\w)", " ", text)) or ""
    words = [w.strip("-'") for w in folded.split()]
    words = [w for w in words if w and w not in _TITLES and w not in _FILLER_WORDS]
    return words if any(w not in _RELATION_WORDS for w in words) else []


def _strip_relation_words(words: list[str]) -> list[str]:
    """`JEAN SMITH WIFE` → `JEAN SMITH`. Two words are kept as they are: a relationship
    word there is more likely a name (`Mrs J Friend`, `Nan Smith`)."""
    while len(words) > 2 and words[-1] in _RELATION_WORDS:
        words = words[:-1]
    while len(words) > 2 and words[0] in _RELATION_WORDS:
        words = words[1:]
    return words


def free_text_sex(text: object) -> str | None:
    """`F`/`M` when a free-text name's title or relationship word says so (`Mrs J Smith`,
    `John Smith (husband)`), None when it says nothing or contradicts itself.

    The register gives the cared-for person no sex column; a receptionist's `Mrs` is the
    only evidence, and it lets the model tell `Mr J Smith` from his wife Jean.
    """
    raw = clean_text(text)
    if raw is None:
        return None
    words = set(re.sub(r"[^A-Z ]", " ", raw.upper()).split())
    female, male = bool(words & _FEMALE_WORDS), bool(words & _MALE_WORDS)
    if female == male:
        return None
    return "F" if female else "M"


def _postcode_columns(value: object) -> tuple[str | None, str | None, str | None]:
    postcode = normalise_postcode(value)
    _, district, sector = postcode_parts(postcode)
    return postcode, sector, district


def recorded_surname(value: object) -> str | None:
    """A surname field as the person is called: a note typed into it (`Smith (wife)`) and a
    birth name (`Smith (nee Jones)`, `Smith nee Jones`) left out."""
    text = clean_text(value)
    if text is None:
        return None
    text = _NEE.split(_BRACKETED.sub(" ", text), maxsplit=1)[0]
    return normalise_name(text) or normalise_name(value)


def make_record(key: str, source: str, role: str, *, first: object, last: object, dob: object,
            nhs: object, postcode: object, address: object = None, sex: object = None,
            declined: bool = False, carer_ref: str | None = None,
            first_is_parsed: bool = False, postcode_guessed: bool = False) -> dict:
    first_n = first if first_is_parsed else first_word(normalise_name(first))
    pc, sector, district = _postcode_columns(postcode)
    sex_n = normalise_sex(sex) if sex is not None else "U"
    return {
        "source_record_key": key, "source": source, "role": role,
        "first_name": first_n, "last_name": recorded_surname(last),
        "first_name_alt": canonical_first_name(first_n),
        "date_of_birth": iso_date(dob), "nhs_number": valid_nhs(nhs),
        "postcode": pc, "postcode_guessed": bool(postcode_guessed and pc),
        "postcode_sector": sector, "postcode_district": district,
        "address": normalise_address(address),
        "sex": sex_n if sex_n in ("F", "M") else None,
        "information_sharing_declined": bool(declined), "carer_ref": carer_ref,
    }


def _rows(staged: dict[str, pd.DataFrame], name: str) -> list[dict]:
    frame = staged.get(name)
    if frame is None or frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def gp_patient_key(practice_ods: str, nhs_number: object) -> str | None:
    """`gp:<practice>:<nhs as supplied>`; None when the row has no number to key on."""
    digits = nhs_digits(nhs_number)
    return f"gp:{practice_ods}:{digits}" if digits else None


def gp_cared_for_keys(gp: pd.DataFrame) -> pd.Series:
    """Per staged register row, the contract's key for the person it may name:
    `gp:<practice_ods>:<nhs>:cared_for:<k>`, k being the row's place among that patient's
    rows of the file (1, 2, … in file order); None where the row has no NHS number.

    k is the reader's `patient_row`, counted over every row of the file, quarantined ones
    included; rows staged before it was recorded fall back to counting the staged rows.
    """
    if gp.empty:
        return pd.Series([], index=gp.index, dtype=object)
    digits = gp["nhs_number"].map(nhs_digits)
    files = [c for c in ("practice_ods", "snapshot_month", "source_file") if c in gp]
    order = pd.to_numeric(gp["entry_number"], errors="coerce")
    ranked = gp[files].assign(_digits=digits, _order=order).sort_values("_order", kind="stable")
    k = ranked.groupby([*files, "_digits"], dropna=False, sort=False).cumcount() + 1
    k = k.reindex(gp.index)
    if "patient_row" in gp:
        k = pd.to_numeric(gp["patient_row"], errors="coerce").fillna(k).astype(int)
    return pd.Series([f"gp:{ods}:{d}:cared_for:{n}" if isinstance(d, str) else None
                      for ods, d, n in zip(gp["practice_ods"], digits, k, strict=True)],
                     index=gp.index, dtype=object)


def person_records(staged: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One canonical row per source mention of a person (see the module docstring).

    Provider cared-for rows inherit their carer file's information-sharing choice, because the
    contract's opt-out covers everyone on a declined file; a choice that is not a plain
    `Agreed`, or a file whose carer row was quarantined, counts as declined (fail closed).
    LAS records merged into another are kept (they are still source records); the clustering
    forces them into the survivor's person.
    """
    out: list[dict] = []
    declined: dict[str, bool] = {}
    for r in _rows(staged, "provider_carer"):
        ref = str(r["carer_ref"])
        is_declined = declines_sharing(r.get("information_sharing"))
        declined[ref] = is_declined
        out.append(make_record(
            f"provider:carer:{ref}", "provider", "carer", first=r.get("first_name"),
            last=r.get("last_name"), dob=r.get("date_of_birth"), nhs=r.get("nhs_number"),
            postcode=r.get("postcode"), address=r.get("address_line_1"), sex=r.get("sex"),
            declined=is_declined, carer_ref=ref))
    for r in _rows(staged, "provider_cared_for"):
        ref = str(r["carer_ref"])
        first, sex = cared_for_first_name(r.get("first_name"))  # `Mum` Hill: no first name
        out.append(make_record(
            f"provider:cared_for:{r['cared_for_ref']}", "provider", "cared_for",
            first=first, last=r.get("last_name"), dob=r.get("date_of_birth"),
            nhs=r.get("nhs_number"), postcode=r.get("postcode"), sex=sex,
            # A file whose carer row was not staged (quarantined) has no known consent.
            declined=declined.get(ref, True), carer_ref=ref, first_is_parsed=True))
    for r in _rows(staged, "las_person"):
        out.append(make_record(
            f"las:{int(r['person_id'])}", "las", "person", first=r.get("forename"),
            last=r.get("surname"), dob=r.get("date_of_birth"), nhs=r.get("nhs_number"),
            postcode=r.get("postcode"), address=r.get("address"), sex=r.get("sex")))
    seen_patients: set[str] = set()
    gp = staged.get("gp_register_entry")
    mention_keys = [] if gp is None or gp.empty else gp_cared_for_keys(gp).tolist()
    for r, mention_key in zip(_rows(staged, "gp_register_entry"), mention_keys, strict=True):
        key = gp_patient_key(r["practice_ods"], r.get("nhs_number"))
        if key is None:
            continue
        if key not in seen_patients:
            seen_patients.add(key)
            out.append(make_record(
                key, "gp", "carer", first=r.get("first_name"), last=r.get("last_name"),
                dob=r.get("date_of_birth"), nhs=r.get("nhs_number"),
                postcode=r.get("postcode"), sex=r.get("sex")))
        cared = gp_cared_for(r)
        if cared is not None:
            first, last, dob, nhs = cared
            # The register gives no address for the cared-for person; most live with the
            # patient (partners, parents at home), so the patient's postcode is the best
            # evidence available. It is marked as a guess, and the model counts a guess only
            # when it agrees.
            out.append(make_record(
                mention_key, "gp", "cared_for",
                first=first, last=last, dob=dob, nhs=nhs, postcode=r.get("postcode"),
                sex=free_text_sex(r.get("cared_for_name"))
                or cared_for_first_name(r.get("cared_for_first_name"))[1],
                first_is_parsed=True, postcode_guessed=True))
    frame = pd.DataFrame(out, columns=RECORD_COLUMNS)
    frame = frame.drop_duplicates("source_record_key", keep="first").reset_index(drop=True)
    return correct_first_name_slips(correct_swapped_names(frame))


def cared_for_first_name(value: object) -> tuple[str | None, str | None]:
    """(first name, sex) of a cared-for person's recorded first name: a relationship word
    is no name (`Dad` → (None, "M")); a name gives (name, None)."""
    first = first_word(normalise_name(value))
    if first in _RELATION_WORDS and first != "NAN":
        return None, free_text_sex(first)
    return first, None


def gp_cared_for(row: dict) -> tuple[str | None, str | None, object, object] | None:
    """(first, last, dob, nhs) of the cared-for person a register row names, or None.

    SystmOne gives structured forename/surname/DOB; EMIS gives free text. A row naming the
    person by NHS number alone is still a record (the number identifies them); a forename
    that is only a relationship word (`Wife`) is no name.
    """
    nhs = row.get("cared_for_nhs_number")
    first, _ = cared_for_first_name(row.get("cared_for_first_name"))
    last = recorded_surname(row.get("cared_for_last_name"))
    if first is None and last is None and not is_missing(row.get("cared_for_name")):
        first, last = parse_free_text_name(row.get("cared_for_name"))
    if first is None and last is None and nhs_digits(nhs) is None:
        return None
    return first, last, row.get("cared_for_date_of_birth"), nhs
