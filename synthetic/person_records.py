"""Canonical person-record CSVs (the `carelink link` input format) at benchmark scale.

`carelink generate --person-records N` writes N records about roughly N/2.2 people spread over
three source files, with the same identity noise as the county, plus `truth.csv` mapping every
record to its person, so that linkage speed and quality can be measured at a million records.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from synthetic.noise import mention
from synthetic.world import PeopleFactory, birth_date

COLUMNS = ["record_id", "nhs_number", "first_name", "last_name", "date_of_birth", "sex",
           "postcode", "address"]
SOURCES = (("provider", "provider_carer", 0.35), ("las", "las", 0.30), ("gp", "gp", 0.35))


def write_person_records(out: Path, *, records: int, seed: int = 1) -> Path:
    out = Path(out) / "person_records"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    factory = PeopleFactory(rng, {})
    on = date(2026, 11, 1)
    handles = {name: (out / f"{name}.csv").open("w", newline="", encoding="utf-8")
               for name, _, _ in SOURCES}
    truth = (out / "truth.csv").open("w", newline="", encoding="utf-8")
    try:
        writers = {name: csv.writer(fh) for name, fh in handles.items()}
        for w in writers.values():
            w.writerow(COLUMNS)
        truth_writer = csv.writer(truth)
        truth_writer.writerow(["source", "record_id", "person"])
        counters = dict.fromkeys(writers, 0)
        written = 0
        household = None
        while written < records:
            sex = "F" if rng.random() < 0.6 else "M"
            near = household if household is not None and rng.random() < 0.3 else None
            person = factory.person(sex, birth_date(rng, rng.uniform(18, 95), on),
                                    surname=near.last_name if near else None, near=near)
            household = person
            copies = rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0]
            for _ in range(copies):
                if written >= records:
                    break
                source, noise, _ = rng.choices(SOURCES, [s[2] for s in SOURCES])[0]
                m = mention(rng, person, noise, on)
                counters[source] += 1
                record_id = f"{source[0].upper()}{counters[source]:08d}"
                writers[source].writerow([
                    record_id, m.nhs_number or "", m.first_name, m.last_name,
                    m.dob.isoformat() if m.dob else "", m.sex, m.postcode,
                    f"{m.house}, {person.town}"])
                truth_writer.writerow([source, record_id, person.pid])
                written += 1
    finally:
        for fh in handles.values():
            fh.close()
        truth.close()
    return out
