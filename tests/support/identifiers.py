"""Identifiers for hand-made test records."""

from __future__ import annotations

from carelink.identity import nhs_check_digit


def valid_nhs(seed: int) -> str:
    """A valid (Modulus 11) NHS number, distinct per seed (seeds under 1,000)."""
    n = seed
    while True:
        nine = f"{400000000 + n:09d}"
        check = nhs_check_digit(nine)
        if check is not None:
            return nine + str(check)
        n += 1000
