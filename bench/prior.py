"""Rebuild `linkage/prior_model.json`: the parameters `carelink link` falls back on when its
input is too small to estimate its own (`linkage.model.SMALL_INPUT`).

The prior is the unsupervised model (`linkage.model.fit`, u by random sampling, m by EM)
estimated on generated person records, never real ones; only its m and u probabilities are
used. Rebuild it whenever the comparisons change (a test compares the settings hashes):

    python -m bench.prior [--records 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from linkage.model import PRIOR_MODEL, settings_hash


def build_prior(records: int, seed: int) -> dict:
    from linkage.cli_link import LinkSummary, read_inputs
    from linkage.model import fit
    from synthetic import write_person_records

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_person_records(Path(tmp), records=records, seed=seed)
        frame, _ = read_inputs([folder / f"{name}.csv" for name in ("provider", "las", "gp")],
                               LinkSummary())
    settings = fit(frame, seed=seed)
    settings["carelink"] = {
        "prior": True,
        "trained_on": f"{len(frame):,} generated person records "
                      f"(synthetic.write_person_records, seed {seed}); no real data",
        "settings_hash": settings_hash(settings),
        "rebuild": "python -m bench.prior",
    }
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = build_prior(args.records, args.seed)
    PRIOR_MODEL.write_text(json.dumps(settings, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {PRIOR_MODEL} ({settings['carelink']['trained_on']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
