"""The Splink model: comparisons, blocking, training, saved models and their approval.

One model serves the nightly pipeline and `carelink link`. It deduplicates one combined
table of canonical person records (`linkage.records`), so records from every source are
compared with each other and within their own source.

The comparisons are written as explicit SQL levels rather than library presets so that the
levels that matter for the hard negatives exist and can earn strongly negative weights:
a first name that disagrees (twins, partners) and a date of birth decades apart (a son who
shares his father's name and address).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # imported where used: Splink is slow to import
    import duckdb
    from splink import Linker

log = logging.getLogger(__name__)

MODEL_VERSION = 1
DEFAULT_THRESHOLD = 0.95
# Parameters for inputs too small to estimate their own (`bench/prior.py` rebuilds it).
PRIOR_MODEL = Path(__file__).with_name("prior_model.json")
# Below this many records the input cannot estimate a model: u from random pairs and m from
# EM are noise (five records give ten pairs), so `fit` takes m and u from PRIOR_MODEL and
# estimates only how often two records match. Measured in docs/benchmarks.md.
SMALL_INPUT = 1000
SPLINK_COLUMNS = [
    "unique_id", "source", "first_name", "first_name_alt", "last_name", "date_of_birth",
    "nhs_number", "postcode", "postcode_guessed", "postcode_sector", "postcode_district",
    "address", "sex",
]  # fmt: skip
CURRENT_POINTER = "current.json"


@contextlib.contextmanager
def quiet_splink(level: int = logging.WARNING) -> Iterator[None]:
    """Keep Splink's per-iteration chatter out of the task log (it holds no identifiers,
    but hundreds of lines a night bury the lines that matter)."""
    logger = logging.getLogger("splink")
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)


def _level(sql: str, label: str, *, null: bool = False, tf_col: str | None = None) -> dict:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf_col:
        level["tf_adjustment_column"] = tf_col
        level["tf_adjustment_weight"] = 1.0
    return level


def _null(col: str) -> dict:
    return _level(f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "null", null=True)


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "all other"}
_DOB_L = 'TRY_CAST("date_of_birth_l" AS DATE)'
_DOB_R = 'TRY_CAST("date_of_birth_r" AS DATE)'


def comparisons() -> list[dict]:
    """The comparison dicts (Splink's serialised form, so saved models round-trip exactly)."""
    return [
        {"output_column_name": "nhs_number", "comparison_levels": [
            _null("nhs_number"),
            _level('"nhs_number_l" = "nhs_number_r"', "exact"),
            _ELSE]},
        {"output_column_name": "first_name", "comparison_levels": [
            _null("first_name"),
            _level('"first_name_l" = "first_name_r"', "exact", tf_col="first_name"),
            # first_name_alt holds a name's formal forms, space-separated (CHRIS: Christopher
            # or Christine); any shared form is a nickname match
            _level('list_has_any(string_split("first_name_alt_l", \' \'), '
                   'string_split("first_name_alt_r", \' \'))', "nickname"),
            _level('jaro_winkler_similarity("first_name_l", "first_name_r") >= 0.92',
                   "jaro-winkler >= 0.92"),
            _level('length("first_name_l") >= 5 AND length("first_name_r") >= 5 AND '
                   'damerau_levenshtein("first_name_l", "first_name_r") <= 1', "one typo"),
            _level('"first_name_l" = "last_name_r" AND "last_name_l" = "first_name_r"',
                   "swapped with surname"),
            _level('(length("first_name_l") = 1 OR length("first_name_r") = 1) AND '
                   'substr("first_name_l", 1, 1) = substr("first_name_r", 1, 1)',
                   "initial only"),
            _ELSE]},
        {"output_column_name": "last_name", "comparison_levels": [
            _null("last_name"),
            _level('"last_name_l" = "last_name_r"', "exact", tf_col="last_name"),
            _level('jaro_winkler_similarity("last_name_l", "last_name_r") >= 0.92',
                   "jaro-winkler >= 0.92"),
            _level('"first_name_l" = "last_name_r" AND "last_name_l" = "first_name_r"',
                   "swapped with first name"),
            _level('jaro_winkler_similarity("last_name_l", "last_name_r") >= 0.8',
                   "jaro-winkler >= 0.8"),
            _ELSE]},
        {"output_column_name": "date_of_birth", "comparison_levels": [
            _null("date_of_birth"),
            _level('"date_of_birth_l" = "date_of_birth_r"', "exact"),
            _level(f"month({_DOB_L}) = day({_DOB_R}) AND day({_DOB_L}) = month({_DOB_R}) "
                   f"AND year({_DOB_L}) = year({_DOB_R})", "day and month transposed"),
            _level('levenshtein("date_of_birth_l", "date_of_birth_r") <= 1',
                   "one digit different"),
            _level(f"month({_DOB_L}) = month({_DOB_R}) AND day({_DOB_L}) = day({_DOB_R})",
                   "year only different"),
            _level(f"abs(date_diff('day', {_DOB_L}, {_DOB_R})) <= 366", "within 1 year"),
            _ELSE]},
        {"output_column_name": "postcode", "comparison_levels": [
            # A guessed postcode (a GP cared-for person's, taken from the patient) is evidence
            # when it agrees, and no evidence at all when it does not.
            _level('"postcode_l" IS NULL OR "postcode_r" IS NULL OR '
                   '(("postcode_guessed_l" OR "postcode_guessed_r") '
                   'AND "postcode_l" <> "postcode_r")', "null or guess disagrees", null=True),
            _level('"postcode_l" = "postcode_r"', "exact"),
            _level('"postcode_sector_l" = "postcode_sector_r"', "sector"),
            _level('"postcode_district_l" = "postcode_district_r"', "district"),
            _ELSE]},
        {"output_column_name": "address", "comparison_levels": [
            # A move changes postcode and address together: scoring a different address as
            # well as a different postcode counts the one move twice (the comparisons are
            # taken as independent). So addresses count only within one postcode sector.
            _level('"address_l" IS NULL OR "address_r" IS NULL OR '
                   '"postcode_sector_l" <> "postcode_sector_r"',
                   "null or in different postcode sectors", null=True),
            _level('"address_l" = "address_r"', "exact"),
            _level('jaro_winkler_similarity("address_l", "address_r") >= 0.9',
                   "jaro-winkler >= 0.9"),
            _ELSE]},
        {"output_column_name": "sex", "comparison_levels": [
            _null("sex"),
            _level('"sex_l" = "sex_r"', "exact"),
            _ELSE]},
    ]


# The rule pairing records that share an NHS number: such pairs link below the threshold
# too (`linkage.clusters.linked_mask`), so prediction fetches them whatever they score.
NHS_RULE = "l.nhs_number = r.nhs_number"
# Blocking rules for prediction: each catches matches the others miss (a typo in the
# surname, a moved postcode, a missing date of birth).
PREDICTION_BLOCKING = [
    NHS_RULE,
    "l.date_of_birth = r.date_of_birth AND substr(l.last_name, 1, 2) = substr(r.last_name, 1, 2)",
    "l.postcode = r.postcode AND substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1)",
    # Name alone grows with the square of the input (a common name and surname: 2.8M of the
    # 2.9M comparisons at 100,000 records, 277M at a million); every link only it found at
    # 100,000 shared the postcode district, which cuts a million records to 8.5M.
    "split_part(l.first_name_alt, ' ', 1) = split_part(r.first_name_alt, ' ', 1) "
    "AND l.last_name = r.last_name AND l.postcode_district = r.postcode_district",
    "l.postcode_district = r.postcode_district AND l.date_of_birth = r.date_of_birth",
    # A full name and a date of birth keyed with day and month the other way round, on a
    # record without a postcode (`NULL`, `N/A`): none of the rules above pairs them. Only the
    # exact transposition is paired (one name and one birth year alone paired different
    # people whom the other fields then scored over the threshold).
    "l.first_name = r.first_name AND l.last_name = r.last_name "
    "AND substr(l.date_of_birth, 1, 4) = substr(r.date_of_birth, 1, 4) "
    "AND substr(l.date_of_birth, 6, 2) = substr(r.date_of_birth, 9, 2) "
    "AND substr(l.date_of_birth, 9, 2) = substr(r.date_of_birth, 6, 2)",
]
# EM blocks on evidence that (almost) only the same person shares. Blocking on a date of
# birth or a household postcode instead lets EM learn "same household" rather than "same
# person", which gives a different first name and a date of birth decades apart almost no
# negative weight: exactly the partners, parents and children the model must keep apart.
EM_BLOCKING = [
    NHS_RULE,
    "l.first_name = r.first_name AND l.last_name = r.last_name "
    "AND l.date_of_birth = r.date_of_birth",
]
# Levels EM cannot see often enough get a floor on m (no level may be near-impossible for a
# true match) and, when never observed, a modest default weight.
M_FLOOR = 0.001
UNTRAINED_BAYES_FACTOR = 3.0
DETERMINISTIC_RULES = [
    NHS_RULE,
    "l.first_name = r.first_name AND l.last_name = r.last_name "
    "AND l.date_of_birth = r.date_of_birth",
]


def base_settings() -> dict:
    """Splink settings before training (no m/u probabilities yet)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": r, "sql_dialect": "duckdb"} for r in PREDICTION_BLOCKING],
        "probability_two_random_records_match": 0.0005,
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["source"],
        "max_iterations": 25,
        "em_convergence": 0.0001,
        "sql_dialect": "duckdb",
    }


def settings_hash(settings: dict) -> str:
    """Hash of the model's structure (comparisons and blocking), not of trained values."""
    core = {k: settings.get(k) for k in ("link_type", "blocking_rules_to_generate_predictions")}
    core["comparisons"] = [
        {"name": c.get("output_column_name"),
         "levels": [lvl.get("sql_condition") for lvl in c.get("comparison_levels", [])]}
        for c in settings.get("comparisons", [])]
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:8]


def splink_input(records: pd.DataFrame) -> pd.DataFrame:
    """The columns Splink compares, keyed by `unique_id` = source_record_key."""
    frame = records.rename(columns={"source_record_key": "unique_id"})
    frame = frame.reindex(columns=SPLINK_COLUMNS)
    return frame.astype(object).where(frame.notna(), None)


# Columns clustering and the guards read from a scored pair (`linked_mask`, `first_name_veto`,
# the edges); fetching only these keeps a million-record prediction out of pandas.
LINK_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight",
                "nhs_number_l", "nhs_number_r", "gamma_first_name", "gamma_nhs_number"]


def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a memory bound and a temporary directory to spill to.

    Splink's default connection may take 80% of the machine; the bound
    (CARELINK_DUCKDB_MEMORY_LIMIT, DuckDB syntax, default 4GB) keeps `carelink link` at a
    million records inside an 8 GB box, Python's own frames included.

    What spills is the records being compared, identifiers and all, and DuckDB creates its
    spill folder and files with the umask (readable by every account under 022). So the
    folder DuckDB creates (and removes on close) sits inside one that is owner-only.
    """
    import os
    import tempfile

    import duckdb

    from carelink.config import Settings
    from carelink.private import private_dir

    con = duckdb.connect(":memory:")
    limit = Settings.from_env().duckdb_memory_limit
    con.execute(f"SET memory_limit = '{limit}'")
    owner_only = private_dir(Path(tempfile.gettempdir()) / f"carelink-duckdb-{os.getuid()}")
    spill = owner_only / str(os.getpid())
    con.execute(f"SET temp_directory = '{spill.as_posix()}'")
    return con


def make_linker(records: pd.DataFrame, settings: dict) -> Linker:
    """A Splink linker over the combined records on a fresh in-memory DuckDB."""
    return _linker(splink_input(records), settings)


def _linker(frame: pd.DataFrame, settings: dict) -> Linker:
    """A Splink linker over `splink_input` output (converted once, registered per linker)."""
    from splink import DuckDBAPI, Linker

    sdf = DuckDBAPI(duckdb_connection()).register(frame, dataset_display_name="records")
    with quiet_splink():
        return Linker(sdf, settings)


def _fetch(predictions, where: str = "TRUE") -> pd.DataFrame:
    """The LINK_COLUMNS of a Splink prediction table that satisfy `where`, as pandas."""
    rel = predictions.as_duckdbpyrelation()
    cols = [c for c in LINK_COLUMNS if c in rel.columns]
    return rel.filter(where).select(*cols).df()


def blocking_rules(settings: dict) -> list[str]:
    """The prediction blocking rules of a settings dict, as SQL text."""
    return [r["blocking_rule"] if isinstance(r, dict) else str(r)
            for r in settings.get("blocking_rules_to_generate_predictions", [])]


def _count_comparisons(frame: pd.DataFrame, rules: list[str]) -> list[dict]:
    """Pairs each rule generates over `splink_input` output: rule, marginal, cumulative (the
    last cumulative is what a prediction without a threshold scores)."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    if not rules:
        return []
    sdf = DuckDBAPI(duckdb_connection()).register(frame, dataset_display_name="records")
    with quiet_splink():
        counted = count_comparisons_from_blocking_rules(
            sdf, blocking_rules=rules, link_type="dedupe_only", record_sample_proportion=1.0)
    return [{"rule": rule, "marginal": int(c.get("marginal_comparison_count") or 0),
             "cumulative": int(c.get("cumulative_comparison_count") or 0)}
            for rule, c in zip(rules, counted, strict=False)]


def predict_links(records: pd.DataFrame, settings: dict, threshold: float | None
                  ) -> tuple[Any, pd.DataFrame, int]:
    """(linker, scored pairs, how many pairs were scored), the filtering done in DuckDB.

    With a threshold, only the pairs `linkage.clusters.linked_mask` can accept leave DuckDB:
    those at or above the threshold (Splink filters them inside its prediction, so the other
    pairs are never stored) and those sharing an NHS number below it (scored again on the
    NHS-number rule alone, a small set). Either way only LINK_COLUMNS are fetched: a full
    prediction as pandas, with every matching and intermediate column, took 9.5 GB at
    100,000 records. Without a threshold every scored pair is returned (threshold sweeps).
    """
    frame = splink_input(records)
    linker = _linker(frame, settings)
    with quiet_splink():
        if threshold is None:
            pairs = _fetch(linker.inference.predict(warning_mode="never"))
            return linker, pairs, len(pairs)
        # Splink turns the threshold into a match weight: 1.0 would be an infinite one
        inside = float(threshold) if 0.0 < threshold < 1.0 else None
        above = _fetch(linker.inference.predict(threshold_match_probability=inside,
                                                warning_mode="never"),
                       f"match_probability >= {float(threshold)!r}")
        counts = _count_comparisons(frame, blocking_rules(settings))
        scored = counts[-1]["cumulative"] if counts else 0
        nhs_rules = [r for r in blocking_rules(settings) if r == NHS_RULE]
        if not nhs_rules:
            return linker, above, scored
        nhs_linker = _linker(frame, {**settings,
                                     "blocking_rules_to_generate_predictions": nhs_rules})
        below = _fetch(nhs_linker.inference.predict(warning_mode="never"),
                       f"match_probability < {float(threshold)!r} AND nhs_number_l IS NOT NULL"
                       " AND nhs_number_l = nhs_number_r")
    pairs = pd.concat([above, below], ignore_index=True) if len(below) else above
    return linker, pairs, scored


def blocking_counts(records: pd.DataFrame) -> list[dict]:
    """Comparisons each prediction blocking rule generates (marginal and cumulative)."""
    return _count_comparisons(splink_input(records), PREDICTION_BLOCKING)


def fit(records: pd.DataFrame, *, seed: int = 42) -> dict:
    """Trained Splink settings dict: u by random sampling, m by EM, unsupervised; below
    SMALL_INPUT records, the prior's m and u with the match rate estimated from the input."""
    with quiet_splink(logging.ERROR):
        if len(records) < SMALL_INPUT:
            return _fit_small(records)
        return _fit(records, seed)


def prior_parameters(settings: dict) -> dict:
    """`settings` with every level's m and u taken from the prior model (PRIOR_MODEL) and
    no term-frequency adjustment.

    Term frequencies come from the input at prediction time: in five records, SMITH three
    times has a frequency of 0.6, which would make agreeing on it nearly worthless. Levels
    the prior lacks (comparisons changed since it was built) are filled by `_regularise`.
    """
    prior = json.loads(PRIOR_MODEL.read_text(encoding="utf-8"))
    levels = {(c["output_column_name"], lvl["sql_condition"]): lvl
              for c in prior["comparisons"] for lvl in c["comparison_levels"]}
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            level.pop("tf_adjustment_column", None)
            level.pop("tf_adjustment_weight", None)
            known = levels.get((comparison["output_column_name"], level["sql_condition"]))
            if known is not None and not level.get("is_null_level"):
                level["m_probability"] = known.get("m_probability")
                level["u_probability"] = known.get("u_probability")
    return settings


def _fit_small(records: pd.DataFrame) -> dict:
    linker = make_linker(records, prior_parameters(base_settings()))
    _estimate_match_rate(linker, len(records))
    return _regularise(linker.misc.save_model_to_json(overwrite=True))


def _estimate_match_rate(linker, n_records: int) -> None:
    """The prior probability that two records match, from the deterministic rules."""
    try:
        linker.training.estimate_probability_two_random_records_match(
            DETERMINISTIC_RULES, recall=0.8)
    except Exception as exc:  # noqa: BLE001 - tiny inputs: keep the default
        log.info("prior match probability kept at default (%s)", type(exc).__name__)
    # No pair agreeing on the deterministic rules gives an estimate of 0, and a prior of 0
    # makes every match weight -infinity (Splink then fails on log2(0)). Data with no
    # duplicate a strict rule can see still may hold some: assume one matching pair.
    pairs = n_records * (n_records - 1) / 2
    floor = 1 / pairs if pairs else 1.0
    prior = linker._settings_obj._probability_two_random_records_match  # Splink's own setter
    if not prior or prior < floor:
        linker._settings_obj._probability_two_random_records_match = min(floor, 0.5)


def _fit(records: pd.DataFrame, seed: int) -> dict:
    linker = make_linker(records, base_settings())
    training = linker.training
    _estimate_match_rate(linker, len(records))
    training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in EM_BLOCKING:
        try:
            training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True)
        except Exception as exc:  # noqa: BLE001 - a rule with no pairs on a small input
            log.warning("EM on one blocking rule skipped (%s)", type(exc).__name__)
    return _regularise(linker.misc.save_model_to_json(overwrite=True))


def _regularise(settings: dict) -> dict:
    """Floor tiny m probabilities and fill never-observed ones (see M_FLOOR)."""
    for comparison in settings.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            is_else = level.get("sql_condition") == "ELSE"
            u = level.get("u_probability")
            if u is None:  # small inputs: random pairs never reached this level
                u = level["u_probability"] = 0.9 if is_else else 0.005
            m = level.get("m_probability")
            if m is None:
                level["m_probability"] = (
                    M_FLOOR if is_else else min(0.05, u * UNTRAINED_BAYES_FACTOR))
            elif m is not None and m < M_FLOOR:
                level["m_probability"] = M_FLOOR
    return settings


def train_model(records: pd.DataFrame, *, out_dir: Path, trained_on: str,
                threshold: float = DEFAULT_THRESHOLD) -> Path:
    """Train on `records` and save `model-<YYYYMMDD>-<hash8>.json` in `out_dir`.

    `trained_on` is the extract date (ISO) the records came from; it is also the model's
    `trained_at`, so that retraining on the same night writes the same file name instead of
    depending on the wall clock. The model is not approved: `approve_model` does that.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = fit(records)
    digest = settings_hash(settings)
    stamp = str(trained_on).replace("-", "")[:8]
    settings["carelink"] = {
        "version": MODEL_VERSION,
        "trained_on": str(trained_on),
        "trained_at": str(trained_on),
        "settings_hash": digest,
        "threshold": threshold,
        "records": int(len(records)),
        "parameters": "estimated" if len(records) >= SMALL_INPUT else "prior (too few records)",
        "blocking_counts": blocking_counts(records),
        "evaluation": {},
        "approved_by": None,
        "approved_at": None,
    }
    path = out_dir / f"model-{stamp}-{digest}.json"
    path.write_text(json.dumps(settings, indent=2, default=str), encoding="utf-8")
    log.info("trained linkage model %s on %d records", path.name, len(records))
    return path


def load_model(path: Path) -> tuple[dict, dict]:
    """(Splink settings, carelink metadata) from a saved model file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    meta = data.pop("carelink", {}) or {}
    return data, meta


def model_threshold(meta: dict) -> float:
    value = meta.get("threshold")
    return float(value) if value is not None else DEFAULT_THRESHOLD


def approve_model(path: Path, by: str, on: date) -> Path:
    """Record who approved the model and when, and make it the current model.

    Approval is a person's decision, so the date is passed in; the pointer file
    `current.json` beside the model names it, and the nightly uses only what it names.
    """
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("carelink", {})
    data["carelink"]["approved_by"] = by
    data["carelink"]["approved_at"] = on.isoformat()
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    pointer = path.parent / CURRENT_POINTER
    pointer.write_text(json.dumps({"model": path.name, "approved_by": by,
                                   "approved_at": on.isoformat()}, indent=2),
                       encoding="utf-8")
    return path


def current_model(models_dir: Path) -> Path | None:
    """The approved model the pointer names, or None when none is approved (or it is gone)."""
    pointer = Path(models_dir) / CURRENT_POINTER
    if not pointer.exists():
        return None
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["model"]
    except (ValueError, KeyError):
        return None
    path = Path(models_dir) / name
    return path if path.exists() else None
