"""The marts privacy scan, shared by the warehouse tests (stand-in linkage) and the
end-to-end run (real linkage through Airflow).

Two nets: the county's own identifiers (its truth file: every NHS number, surname, date of
birth and postcode the generator gave a person) and the shapes identifiers have (a
ten-digit number passing the NHS Modulus 11 check, a full UK postcode), so that an
identifier the truth file does not list still fails the scan.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

import warehouse
from carelink.identity import is_valid_nhs_number

# Surnames that are also ordinary words an analyst's label could hold.
COMMON_WORDS = {"LONG", "SHORT", "HILL", "WOOD", "ROSE", "YOUNG", "GREEN", "WHITE", "BROWN"}
FULL_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
TEN_DIGITS = re.compile(r"^\d{3} ?\d{3} ?\d{4}$")
# Columns whose values are event dates; a date of birth coinciding with one is chance.
EVENT_DATE_SUFFIXES = ("date", "_recorded", "_on", "month", "first_seen", "year_ending", "date_key",
                       "month_start")


def marts_identifier_findings(engine: sa.Engine, truth_dir: Path) -> list[str]:
    """Every marts column that holds something that is, or looks like, an identifier."""
    people = pd.read_csv(truth_dir / "people.csv", dtype=str)
    names = set(people["last_name"].str.upper()) - COMMON_WORDS
    nhs = set(people["nhs_number"].dropna())
    dobs = set(people["date_of_birth"].dropna())
    postcodes = set(people["postcode"].dropna().str.replace(" ", "").str.upper())
    tables = warehouse.query_frame(engine, "select table_name from information_schema.tables "
                                   "where table_schema = 'marts'")["table_name"]
    findings: list[str] = []
    for table in sorted(tables):
        frame = warehouse.query_frame(engine, f"select * from marts.{table}")
        for column in frame.columns:
            values = {str(v) for v in frame[column].dropna().unique()}
            where = f"marts.{table}.{column}"
            if values & nhs or any(TEN_DIGITS.match(v) and is_valid_nhs_number(v)
                                   for v in values):
                findings.append(f"{where} holds NHS numbers")
            if {v.upper() for v in values} & names:
                findings.append(f"{where} holds surnames")
            squashed = {v.replace(" ", "").upper() for v in values}
            if squashed & postcodes or any(FULL_POSTCODE.match(v.upper()) for v in values):
                findings.append(f"{where} holds full postcodes")
            if values & dobs and not column.endswith(EVENT_DATE_SUFFIXES):
                findings.append(f"{where} may hold dates of birth")
    return findings
