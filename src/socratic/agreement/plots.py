"""Figures of judge validation, drawn from the agreement.json dict that `socratic.agreement.run` builds.

- `summary_scatter.{png,svg}`: judge vs human summary score per item, the diagonal, one colour per judge,
  Pearson in the legend.
- `criteria_means.{png,svg}`: per-criterion human vs judge bars (yes-rates for the yes/no criteria, means
  on the 1-5 scale for the others), the paper's breakdown, over the items that humans labelled and every
  judge scored.

Matplotlib through `Figure` (Agg canvas) rather than pyplot: no global state, no display needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

HUMAN_COLOUR = "#4d4d4d"
PALETTE = matplotlib.colormaps["tab10"].colors
JITTER = 0.01
# Fixed ids and no timestamp, so the same numbers give the same SVG bytes.
matplotlib.rcParams["svg.hashsalt"] = "socratic-agreement"


def _save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return paths


def summary_scatter(result: dict[str, Any], out_dir: Path) -> list[Path]:
    formula = result["config"]["formula"]
    low = 0.1 if formula == "reference" else 0.0
    fig = Figure(figsize=(5.5, 5.2))
    ax = fig.add_subplot()
    ax.plot([low, 1], [low, 1], ls="--", color="grey", lw=1, label="judge = human")
    markers = "os^Dvx"
    # Summaries take few distinct values: a small seeded jitter keeps tied items visible.
    rng = np.random.default_rng(0)
    for k, judge in enumerate(result["judges"]):
        rows = [r for r in judge["items"] if r["human_summary"] is not None and r["judge_summary"] is not None]
        pearson = judge["summary"]["pearson"]["estimate"]
        r_text = "n/a" if pearson is None else f"{pearson:.2f}"
        jitter = rng.uniform(-JITTER, JITTER, size=(2, len(rows)))
        ax.scatter(np.array([r["human_summary"] for r in rows]) + jitter[0],
                   np.array([r["judge_summary"] for r in rows]) + jitter[1],
                   color=PALETTE[k % len(PALETTE)], marker=markers[k % len(markers)], alpha=0.6, s=36,
                   label=f"{judge['spec']} (Pearson {r_text}, n={len(rows)})")
    pad = 0.04
    ax.set(xlim=(low - pad, 1 + pad), ylim=(low - pad, 1 + pad), aspect="equal",
           xlabel=f"human summary score ({formula})", ylabel=f"judge summary score ({formula})",
           title=f"Judge vs human summary score (points jittered ±{JITTER})")
    ax.grid(alpha=0.3)
    anchor = result.get("anchor")
    if anchor:
        ax.text(0.02, 0.98, f"paper: {anchor['judge']} Pearson {anchor['pearson']:.2f} (n={anchor['n']})",
                transform=ax.transAxes, va="top", fontsize=8, color="grey")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, out_dir, "summary_scatter")


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def common_means(result: dict[str, Any], criterion: str) -> tuple[int, float | None, list[float | None]]:
    """(n, human mean, judge means) over the items every judge scored and humans labelled, so that
    all bars of a criterion describe the same replies."""
    judges = result["judges"]
    if not judges:
        return 0, None, []
    keep = [i for i, row in enumerate(judges[0]["items"])
            if row["human"][criterion] is not None and all(j["items"][i]["judge"] for j in judges)]
    human = _mean([float(judges[0]["items"][i]["human"][criterion]) for i in keep])
    return len(keep), human, [_mean([float(j["items"][i]["judge"][criterion]) for i in keep]) for j in judges]


def criteria_means(result: dict[str, Any], out_dir: Path) -> list[Path]:
    panels = (("yes rate", ("questions", "reveal_answer"), (0, 1.05)),
              ("mean score (1-5)", ("on_topic", "helpful"), (0, 5.25)))
    means = {c: common_means(result, c) for c in ("questions", "reveal_answer", "on_topic", "helpful")}
    series = [("human", HUMAN_COLOUR, lambda c: means[c][1])]
    for k, judge in enumerate(result["judges"]):
        series.append((judge["spec"], PALETTE[k % len(PALETTE)], lambda c, k=k: means[c][2][k]))
    fig = Figure(figsize=(8, 4))
    axes = fig.subplots(1, 2)
    width = 0.8 / len(series)
    for ax, (ylabel, criteria, ylim) in zip(axes, panels, strict=True):
        for s, (name, colour, value) in enumerate(series):
            xs = [c + (s - (len(series) - 1) / 2) * width for c in range(len(criteria))]
            heights = [value(c) for c in criteria]
            bars = ax.bar(xs, [h or 0 for h in heights], width, color=colour, label=name)
            ax.bar_label(bars, labels=["n/a" if h is None else f"{h:.2f}" for h in heights], fontsize=7)
        ax.set_xticks(range(len(criteria)), [f"{c}\n(n={means[c][0]})" for c in criteria])
        ax.set(ylabel=ylabel, ylim=ylim)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper right")
    fig.suptitle("Per-criterion means: humans vs judges")
    return _save(fig, out_dir, "criteria_means")


def write_figures(result: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return summary_scatter(result, out_dir) + criteria_means(result, out_dir)
