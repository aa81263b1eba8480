"""Charts for the nightly report as inline SVG strings (no files, no JavaScript, no CDN), so
the page opens offline on a locked-down network."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                     "axes.spines.right": False})

BLUE = "#1f5f99"
GREY = "#8a8f98"
RED = "#b3261e"


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str = "",
              ylabel: str = "", horizontal: bool = False) -> str:
    fig, ax = plt.subplots(figsize=(6.4, max(2.4, 0.32 * len(labels)) if horizontal else 3.2))
    if horizontal:
        ax.barh(list(labels), list(values), color=BLUE)
        ax.invert_yaxis()
    else:
        ax.bar(list(labels), list(values), color=BLUE)
        ax.tick_params(axis="x", labelrotation=0)
    ax.set_title(title, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _svg(fig)


def histogram_percent(values: Sequence[float], *, title: str, xlabel: str) -> str:
    """Distribution of Star changes as % of carers (the evaluation's Figures 5–6)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    values = [v for v in values if v == v]
    if values:
        low, high = int(min(values)), int(max(values))
        bins = range(low, high + 2)
        weights = [100.0 / len(values)] * len(values)
        ax.hist(values, bins=bins, weights=weights, color=BLUE, edgecolor="white", align="left")
        ax.axvline(0, color=GREY, linewidth=1)
    ax.set_title(title + f" (n={len(values)})", loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("% of carers")
    return _svg(fig)


def funnel_plot(carers: Sequence[int], means: Sequence[float], flagged: Sequence[bool],
                labels: Sequence[str], *, centre: float, limit_n: Sequence[int],
                lower: Sequence[float], upper: Sequence[float]) -> str:
    """Each practitioner's mean Star change against their number of carers, with the 99.8%
    overdispersed control limits; flagged practitioners in red and labelled."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    order = sorted(range(len(limit_n)), key=lambda i: limit_n[i])
    ax.plot([limit_n[i] for i in order], [upper[i] for i in order], color=GREY, linestyle="--",
            linewidth=1, label="99.8% limits")
    ax.plot([limit_n[i] for i in order], [lower[i] for i in order], color=GREY, linestyle="--",
            linewidth=1)
    ax.axhline(centre, color=GREY, linewidth=1, label=f"centre {centre:.1f}")
    colours = [RED if f else BLUE for f in flagged]
    ax.scatter(list(carers), list(means), c=colours, s=22, zorder=3)
    for n, m, f, label in zip(carers, means, flagged, labels, strict=True):
        if f:
            ax.annotate(label, (n, m), textcoords="offset points", xytext=(4, 4), fontsize=8,
                        color=RED)
    ax.set_xlabel("carers whose latest reading the practitioner scored")
    ax.set_ylabel("mean change since reading 1")
    ax.set_title("Carers Star: practitioners' mean change (funnel plot)", loc="left")
    ax.legend(frameon=False, loc="lower right")
    return _svg(fig)
