"""A synthetic county for carelink: the three sources' landing area, written exactly as their
specifications describe, and the ground truth they were generated from. Never real data."""

from synthetic.county import CountySummary, generate_county
from synthetic.person_records import write_person_records

__all__ = ["CountySummary", "generate_county", "write_person_records"]
