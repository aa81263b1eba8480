"""Carers Star scoring checks: per-practitioner funnel plot and per-reading flags.

A rise of 2+ points triggers payment to the provider, so optimistic scoring pays. The funnel
compares each practitioner's mean change (latest reading − reading 1 of the carers whose
latest reading they scored) with the overall mean, with 99.8 % limits widened for
overdispersion by the additive random-effects method of Spiegelhalter (2005, "Funnel plots
for comparing institutional performance", Stat Med 24:1185): practitioners genuinely differ a
little, and without the widening the busiest ones would be flagged for ordinary variation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

Z_998 = 3.09  # two-sided 99.8 % limits
WINSOR = (10, 90)  # percentiles at which z-scores are winsorised before estimating phi
RETROSPECTIVE_DAYS = 7
SELF_RATING_GAP = 5
IMPLAUSIBLE_JUMP = 12
SCORE_RANGE = (5, 40)
BIAS_COLUMNS = ["practitioner_ref", "carers", "mean_change", "centre", "lower_limit",
                "upper_limit", "flagged", "retrospective_share", "run_id"]
FLAG_COLUMNS = ["star_ref", "carer_key", "practitioner_ref", "reading", "flags", "run_id"]


def _prepare(stars: pd.DataFrame) -> pd.DataFrame:
    df = stars.copy()
    df["reading"] = pd.to_numeric(df["reading"], errors="coerce")
    df["total_score"] = pd.to_numeric(df["total_score"], errors="coerce")
    df["carer_self_rating"] = pd.to_numeric(df["carer_self_rating"], errors="coerce")
    # The contract's words, read literally: recorded_at (a timestamp) more than 7 days after
    # assessment_date (a day, so its midnight). A score keyed on the 7th day after the
    # conversation, at 10:00, is more than 7 days after it.
    recorded = pd.to_datetime(df["recorded_at"], errors="coerce")
    conversation = pd.to_datetime(df["assessment_date"], errors="coerce")
    df["_retrospective"] = (recorded - conversation) > pd.Timedelta(days=RETROSPECTIVE_DAYS)
    return df


def carer_changes(stars: pd.DataFrame) -> pd.DataFrame:
    """Per carer with reading 1 and a later reading: change and the latest's practitioner."""
    df = _prepare(stars).dropna(subset=["carer_ref", "reading", "total_score"])
    # A reading scored again counts as its latest version (as `marts.star_change` takes it);
    # two versions keyed in at one instant are told apart by star_ref, not by row order, so
    # a rerun of the night gives the same figures.
    df = df.sort_values(["carer_ref", "reading", "recorded_at", "star_ref"], kind="stable")
    df = df.drop_duplicates(["carer_ref", "reading"], keep="last")
    first = df[df["reading"] == 1].drop_duplicates("carer_ref").set_index("carer_ref")
    latest = df.drop_duplicates("carer_ref", keep="last").set_index("carer_ref")
    latest = latest[latest["reading"] > 1]
    joined = latest[["total_score", "practitioner_ref"]].join(
        first[["total_score"]].rename(columns={"total_score": "total_score_first"}),
        how="inner")
    joined["change"] = joined["total_score"] - joined["total_score_first"]
    return joined.reset_index()[["carer_ref", "practitioner_ref", "change"]]


def funnel_limits(means: np.ndarray, counts: np.ndarray, centre: float, sd: float
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """Lower and upper limits per unit and tau² (additive random-effects overdispersion).

    phi is the spread of the winsorised z-scores about their own mean, not about zero: the
    centre is the mean over every carer, so a few optimistic practitioners with large
    caseloads pull it up and push every honest practitioner's z below zero. Measured about
    zero, that offset read as overdispersion and widened the limits until the optimistic
    practitioners hid each other (one of three on a reviewer's county: 10.04 against a limit
    of 10.20); about their mean it does not. With no such pull the two agree."""
    s2 = sd**2 / counts
    n_units = len(means)
    tau2 = 0.0
    if n_units >= 2 and sd > 0:
        z = (means - centre) / np.sqrt(s2)
        low, high = np.percentile(z, WINSOR)
        z_w = np.clip(z, low, high)
        phi = float(np.var(z_w, ddof=1))
        w = 1.0 / s2
        denom = w.sum() - (w**2).sum() / w.sum()
        if denom > 0:
            tau2 = max(0.0, (n_units * phi - (n_units - 1)) / denom)
    half = Z_998 * np.sqrt(s2 + tau2)
    return centre - half, centre + half, tau2


def within_practitioner_sd(changes: pd.DataFrame) -> float:
    """The spread of one carer's change about their practitioner's mean (pooled SD).

    By chance, a practitioner's mean varies with the spread of single carers' changes around
    *their own practitioner's* mean. The spread between practitioners is what tau² is for.
    The SD of every change about the overall mean holds both, so an optimistic
    practitioner's offset widened every practitioner's limit before tau² was estimated.
    With no difference between practitioners the two SDs agree. When no practitioner has
    two carers this falls back to the overall SD."""
    groups = changes.groupby("practitioner_ref")["change"]
    dof = len(changes) - groups.ngroups
    if dof <= 0:
        return float(changes["change"].std(ddof=1)) if len(changes) > 1 else float("nan")
    squares = (changes["change"] - groups.transform("mean")) ** 2
    return float(np.sqrt(squares.sum() / dof))


def practitioner_bias(stars: pd.DataFrame, *, run_id: str) -> tuple[pd.DataFrame, dict]:
    """`star_bias_practitioner` rows and the funnel's parameters (for the plot)."""
    changes = carer_changes(stars)
    changes = changes.dropna(subset=["practitioner_ref"])
    prepared = _prepare(stars)
    retro = prepared.dropna(subset=["practitioner_ref"]).groupby("practitioner_ref")[
        "_retrospective"].mean()
    if changes.empty:
        return pd.DataFrame(columns=BIAS_COLUMNS), {}
    centre = float(changes["change"].mean())
    sd = within_practitioner_sd(changes)
    per = changes.groupby("practitioner_ref")["change"].agg(carers="size", mean_change="mean")
    per = per.reset_index()
    if np.isfinite(sd) and sd > 0:
        lower, upper, tau2 = funnel_limits(per["mean_change"].to_numpy(float),
                                           per["carers"].to_numpy(float), centre, sd)
    else:
        lower = upper = np.full(len(per), np.nan)
        tau2 = float("nan")
    per["centre"] = centre
    per["lower_limit"] = lower
    per["upper_limit"] = upper
    per["flagged"] = (per["mean_change"] > per["upper_limit"]).fillna(False).astype(bool)
    per["retrospective_share"] = per["practitioner_ref"].map(retro).astype(float)
    per["carers"] = per["carers"].astype("int64")
    per["run_id"] = run_id
    return per[BIAS_COLUMNS], {"centre": centre, "sd": sd, "tau2": tau2}


def _previous_reading_totals(df: pd.DataFrame) -> pd.Series:
    """Per row, the total of the carer's previous reading: the latest version (as
    `carer_changes` takes it) of the nearest lower reading number. A reading scored again is
    not its own previous reading."""
    latest = (df.dropna(subset=["carer_ref", "reading"])
              .sort_values(["carer_ref", "reading", "recorded_at", "star_ref"], kind="stable")
              .drop_duplicates(["carer_ref", "reading"], keep="last"))
    latest = latest.assign(_previous=latest.groupby("carer_ref")["total_score"].shift(1))
    lookup = latest.set_index(["carer_ref", "reading"])["_previous"]
    keys = pd.MultiIndex.from_arrays([df["carer_ref"], df["reading"]])
    return pd.Series(lookup.reindex(keys).to_numpy(), index=df.index, dtype="float64")


def score_flags(stars: pd.DataFrame, key_of: dict[str, str], *, run_id: str,
                exclude_carers: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """One row per reading with at least one flag. Readings of carers in `exclude_carers`
    (information sharing declined) are left out: no person-level row about them leaves the
    provider's data."""
    df = _prepare(stars)
    df = df[~df["carer_ref"].isin(exclude_carers)]
    df = df.sort_values(["carer_ref", "reading"])
    previous = _previous_reading_totals(df)
    low, high = SCORE_RANGE
    flags = {
        "retrospective": df["_retrospective"].fillna(False),
        "self_rating_gap": ((df["total_score"] - df["carer_self_rating"]).abs()
                            >= SELF_RATING_GAP).fillna(False),
        "implausible_jump": ((df["total_score"] - previous) >= IMPLAUSIBLE_JUMP).fillna(False),
        "out_of_range": (((df["total_score"] < low) | (df["total_score"] > high))
                         .fillna(False)
                         | ((df["carer_self_rating"] < low) | (df["carer_self_rating"] > high))
                         .fillna(False)),
    }
    text = pd.Series("", index=df.index)
    for name, mask in flags.items():
        mask = mask.astype(bool)
        text = text.where(~mask, text + np.where(text == "", "", ",") + name)
    out = df.assign(flags=text)
    out = out[out["flags"] != ""]
    out = out.assign(carer_key=out["carer_ref"].map(lambda r: key_of.get(f"provider:carer:{r}")),
                     reading=out["reading"].astype("Int64"), run_id=run_id)
    return out[FLAG_COLUMNS].reset_index(drop=True)


def write_funnel_svg(path: Path, bias: pd.DataFrame, params: dict) -> Path | None:
    """Funnel plot of mean change against carers, with the control limits."""
    if bias.empty or not params or not np.isfinite(params.get("sd", np.nan)):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    centre, sd, tau2 = params["centre"], params["sd"], params["tau2"]
    n = np.linspace(1, max(2.0, float(bias["carers"].max()) * 1.1), 200)
    half = Z_998 * np.sqrt(sd**2 / n + (tau2 if np.isfinite(tau2) else 0.0))
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(n, centre + half, color="grey", linestyle="--", label="99.8% limits")
    ax.plot(n, centre - half, color="grey", linestyle="--")
    ax.axhline(centre, color="black", linewidth=1, label=f"centre {centre:.2f}")
    normal = bias[~bias["flagged"]]
    flagged = bias[bias["flagged"]]
    ax.scatter(normal["carers"], normal["mean_change"], s=18, color="tab:blue",
               label="practitioner")
    ax.scatter(flagged["carers"], flagged["mean_change"], s=30, color="tab:red",
               label="flagged")
    for _, row in flagged.iterrows():
        ax.annotate(str(row["practitioner_ref"]), (row["carers"], row["mean_change"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("carers whose latest reading the practitioner scored")
    ax.set_ylabel("mean change in Carers Star total (latest − reading 1)")
    ax.set_title("Carers Star change by practitioner (funnel plot)")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)
    return path
