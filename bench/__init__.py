"""Benchmarks (`make bench`): speed and memory measured, not asserted by unit tests."""
