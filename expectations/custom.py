"""Custom Great Expectations classes for the rules GX has no built-in for.

Such a rule (an NHS number's share of valid values, due_date = plan + 6/12 months, Star
readings numbered 1..n per carer, ...) is computed by `expectations.suites` as a derived
boolean column — True fine, False broken, null not applicable — and these classes expect that
column to hold. They subclass the built-in value-set expectation, so GX computes and renders
them like any other (unexpected counts, `mostly`), under a name that says what they check.

This module imports great_expectations at its top level, so it is imported only where GX is
wanted: `expectations.runner._gx` imports it before it creates the context (a context that
loads a suite whose custom classes were not imported first silently drops them), and no DAG
file may import it (a DAG file's top level stays free of GX, which takes seconds to import).
"""

from __future__ import annotations

import great_expectations.expectations as gxe


class ExpectRuleToHold(gxe.ExpectColumnValuesToBeInSet):
    """A rule computed as a derived boolean column holds on every row it applies to (or on
    `mostly` of them); rows where it does not apply (null) are not counted."""

    value_set: list = [True]
    description: str = "a derived rule holds wherever it applies"


class ExpectIdentifiersMostlyValid(ExpectRuleToHold):
    """At least `mostly` of the identifiers present (NHS numbers passing Modulus 11, postcodes
    in the national format) are valid; absent identifiers are not counted."""

    description: str = "a share of the present identifiers are valid"


CUSTOM_EXPECTATIONS = {cls.__name__: cls
                       for cls in (ExpectRuleToHold, ExpectIdentifiersMostlyValid)}
