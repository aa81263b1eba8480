"""A deliberately simple stand-in for the linkage stage's outputs (records grouped by valid
NHS number, caring relationships from the provider's files), so that the warehouse and the
reports can be tested without running Splink. Never used outside tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

NIGHT = date(2026, 11, 22)


def _records(staged: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for r in staged["provider_carer"].itertuples():
        rows.append(("provider:carer:" + r.carer_ref, "carer", "provider",
                     r.nhs_number if r.nhs_number_valid else None))
    for r in staged["provider_cared_for"].itertuples():
        rows.append(("provider:cared_for:" + r.cared_for_ref, "cared_for", "provider",
                     r.nhs_number if r.nhs_number_valid else None))
    for r in staged["las_person"].itertuples():
        rows.append((f"las:{r.person_id}", "person", "las",
                     r.nhs_number if r.nhs_number_valid else None))
    for r in staged["gp_register_entry"].itertuples():
        rows.append((f"gp:{r.practice_ods}:{r.nhs_number}", "carer", "gp",
                     r.nhs_number if r.nhs_number_valid else None))
    df = pd.DataFrame(rows, columns=["source_record_key", "role", "source", "nhs"])
    df = df.drop_duplicates("source_record_key")
    group = [n if isinstance(n, str) and n else k
             for n, k in zip(df["nhs"], df["source_record_key"], strict=True)]
    numbering: dict[str, int] = {}
    df["person_key"] = [f"pk_{numbering.setdefault(g, len(numbering)):06d}" for g in group]
    return df.drop(columns="nhs")


def write_linkage(folder: Path, staged: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    records = _records(staged)
    records.to_parquet(folder / "records.parquet")
    records[["source_record_key", "person_key"]].to_parquet(folder / "person_xref.parquet")
    pd.DataFrame(columns=["retired_key", "surviving_key"]).to_parquet(
        folder / "person_key_history.parquet")
    pd.DataFrame(columns=["source_record_key", "person_key", "since"]).to_parquet(
        folder / "person_key_dormant.parquet")
    keys = dict(zip(records["source_record_key"], records["person_key"], strict=True))
    cf = staged["provider_cared_for"]
    pd.DataFrame({
        "carer_key": [keys["provider:carer:" + r] for r in cf["carer_ref"]],
        "cared_for_key": [keys["provider:cared_for:" + r] for r in cf["cared_for_ref"]],
        "sources": "provider", "first_seen": NIGHT, "ended_on": None, "end_reason": None,
    }).to_parquet(folder / "caring_relationship.parquet")
