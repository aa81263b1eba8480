"""Great Expectations quality checks.

- `expectations.suites`: the per-table expectation specs (reviewable, in code).
- `expectations.gate.validate_source`: the per-source gate run before staging.
- `expectations.nightly.check_night`: cross-source checks over the linked night (stale GP
  registers, Star scoring bias, linkage sanity, LAS service-contact agreement).
"""
