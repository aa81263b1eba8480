"""How real records get a person wrong: nicknames, typos, swapped day and month, a wrong year,
mistyped NHS numbers, postcode spacing and case, first and last names swapped.

Each source has its own rates (a GP register is typed from the patient record, a carers'
service file partly by the carer on a web form), set in `SOURCE_NOISE`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from synthetic.names import NICKNAMES, STREET_ABBREVIATIONS
from synthetic.world import Person


@dataclass(frozen=True)
class NoiseRates:
    nickname: float
    typo: float
    swap_names: float
    dob_missing: float
    dob_day_month_swap: float
    dob_year_wrong: float
    nhs_present: float
    nhs_mistyped: float
    postcode_format: float
    postcode_typo: float


SOURCE_NOISE = {
    "provider_carer": NoiseRates(0.08, 0.03, 0.004, 0.03, 0.02, 0.01, 0.34, 0.03, 0.4, 0.01),
    "provider_cared_for": NoiseRates(0.15, 0.04, 0.004, 0.25, 0.02, 0.02, 0.10, 0.03, 0.4, 0.01),
    "las": NoiseRates(0.02, 0.015, 0.002, 0.01, 0.01, 0.005, 0.0, 0.01, 0.0, 0.005),
    "gp": NoiseRates(0.01, 0.01, 0.0, 0.0, 0.003, 0.002, 1.0, 0.005, 0.1, 0.002),
}


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: a dropped, doubled, replaced or transposed letter."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2:
        return text[:i] + rng.choice("aeinorst") + text[i + 1:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def mistype_nhs(rng: random.Random, number: str) -> str:
    """A single-digit slip or an adjacent transposition; Modulus 11 catches both."""
    digits = list(number)
    if rng.random() < 0.5:
        i = rng.randrange(9)
        if digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            return "".join(digits)
    i = rng.randrange(10)
    digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
    return "".join(digits)


def noisy_dob(rng: random.Random, dob: date, rates: NoiseRates) -> date | None:
    r = rng.random()
    if r < rates.dob_missing:
        return None
    r -= rates.dob_missing
    if r < rates.dob_day_month_swap and dob.day <= 12 and dob.day != dob.month:
        return date(dob.year, dob.day, dob.month)
    r -= rates.dob_day_month_swap
    if r < rates.dob_year_wrong:
        year = dob.year + rng.choice((-1, 1, -10, 10))
        try:
            return dob.replace(year=year)
        except ValueError:
            return dob.replace(year=year, day=28)
    return dob


def noisy_postcode(rng: random.Random, postcode: str, rates: NoiseRates) -> str:
    if rng.random() < rates.postcode_typo:
        outward, inward = postcode.split()
        inward = inward[0] + inward[2] + inward[1] if inward[1] != inward[2] else inward
        postcode = f"{outward} {inward}"
    if rng.random() < rates.postcode_format:
        return rng.choice((postcode.replace(" ", ""), postcode.lower(),
                           postcode.lower().replace(" ", ""), f" {postcode}"))
    return postcode


def noisy_address(rng: random.Random, house: str) -> str:
    if rng.random() < 0.25:
        for full, short in STREET_ABBREVIATIONS.items():
            if house.endswith(full):
                return house[: -len(full)] + short
    if rng.random() < 0.05:
        return house.upper()
    return house


@dataclass
class Mention:
    """What one record says about a person."""

    first_name: str
    last_name: str
    dob: date | None
    nhs_number: str | None
    postcode: str
    house: str
    sex: str


def mention(rng: random.Random, person: Person, source: str, on: date) -> Mention:
    """The person as a record made on `on` in `source` would show them."""
    rates = SOURCE_NOISE[source]
    first, last = person.first_name, person.last_name
    if person.former_surname and on < (person.moved_on or on) and rng.random() < 0.5:
        last = person.former_surname
    elif person.former_surname and rng.random() < 0.3:
        last = person.former_surname
    if first in NICKNAMES and rng.random() < rates.nickname * 3:
        first = rng.choice(NICKNAMES[first])
    if rng.random() < rates.typo:
        if rng.random() < 0.5:
            first = typo(rng, first)
        else:
            last = typo(rng, last)
    if rng.random() < rates.swap_names:
        first, last = last, first
    nhs: str | None = None
    if rng.random() < rates.nhs_present:
        nhs = person.nhs_number
        if rng.random() < rates.nhs_mistyped:
            nhs = mistype_nhs(rng, nhs)
    house, postcode = person.address_on(on)
    return Mention(first, last, noisy_dob(rng, person.dob, rates), nhs,
                   noisy_postcode(rng, postcode, rates), noisy_address(rng, house), person.sex)


def styled_name(rng: random.Random, text: str) -> str:
    """Capitalisation and stray spaces as typed into a case system."""
    r = rng.random()
    if r < 0.05:
        return text.upper()
    if r < 0.08:
        return text.lower()
    if r < 0.11:
        return f" {text} "
    return text
