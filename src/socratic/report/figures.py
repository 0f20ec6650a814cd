"""The report's figures, drawn with matplotlib (Agg, no display): each function returns PNG bytes.

Inputs are the plain dicts of evaluation.json and friends, so the figures can be redrawn from a
finished run folder without loading any model.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from socratic.evaluate.result import Evaluation
from socratic.evaluate.stats import Estimate

CRITERION_TITLES = {"questions": "asks a question (rate)", "on_topic": "on topic (1-5)",
                    "helpful": "helpful (1-5)", "reveal_answer": "reveals the answer (rate, lower is better)"}


def to_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _grouped_bars(ax, groups: Sequence[str], series: dict[str, list[tuple[float | None, float | None,
                                                                          float | None]]]) -> None:
    """Bars per group, one per series, with asymmetric CI error bars; missing values are left out."""
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        means = np.array([v[0] if v[0] is not None else np.nan for v in values], dtype=float)
        lows = np.array([v[0] - v[1] if v[0] is not None else 0 for v in values], dtype=float)
        highs = np.array([v[2] - v[0] if v[0] is not None else 0 for v in values], dtype=float)
        ax.bar(x + (i - (len(series) - 1) / 2) * width, means, width, label=name,
               yerr=np.vstack([lows, highs]), capsize=3, error_kw={"elinewidth": 1})
    ax.set_xticks(x, groups)
    ax.grid(axis="y", alpha=0.3)


def _triple(estimate: Estimate | None) -> tuple:
    if estimate is None or estimate.mean is None:
        return (None, None, None)
    return (estimate.mean, estimate.low, estimate.high)


def summary_bars(evaluation: Evaluation, judge: str, formula: str | None = None) -> bytes:
    formula = formula or evaluation.formula
    models = [m.name for m in evaluation.models]

    def estimate(model: str, dataset: str) -> Estimate | None:
        found = evaluation.cell(model, dataset, judge)
        return None if found is None else found.summary_uniform if formula == "uniform" else found.summary_reference

    series = {m: [_triple(estimate(m, d)) for d in evaluation.datasets] for m in models}
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(evaluation.datasets) + 0.5 * len(models)), 3.8))
    _grouped_bars(ax, evaluation.datasets, series)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"mean summary score ({formula})")
    ax.set_title(f"Summary score per model and test set, 95% bootstrap CI (judge: {judge})", fontsize=10)
    ax.legend(fontsize=8, ncol=min(4, len(models)), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return to_png(fig)


def criteria_bars(evaluation: Evaluation, judge: str) -> bytes:
    models = [m.name for m in evaluation.models]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    for ax, (criterion, title) in zip(axes, CRITERION_TITLES.items()):
        cells = {m: [evaluation.cell(m, d, judge) for d in evaluation.datasets] for m in models}
        series = {m: [_triple(c.criteria.get(criterion) if c else None) for c in row] for m, row in cells.items()}
        _grouped_bars(ax, evaluation.datasets, series)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(*((0, 1.05) if criterion in ("questions", "reveal_answer") else (1, 5.2)))
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Per-criterion breakdown (judge: {judge})", fontsize=10)
    return to_png(fig)


def cross_heatmap(rows: Sequence[str], columns: Sequence[str], values: list[list[float | None]],
                  title: str) -> bytes:
    """A table of means as a heatmap: rows = model (trained on X), columns = test set Y."""
    data = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    fig, ax = plt.subplots(figsize=(1.6 * len(columns) + 2.5, 0.6 * len(rows) + 1.6))
    image = ax.imshow(data, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(columns)), [f"test: {c}" for c in columns], fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for (i, j), v in np.ndenumerate(data):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v < 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.04)
    ax.set_title(title, fontsize=10)
    return to_png(fig)


def training_curves(curves: dict[str, list[dict[str, Any]]]) -> bytes:
    """Loss (and reward margin when logged) per optimisation step for each trained model."""
    keys = [("loss", "training loss (SFT: cross-entropy, DPO: preference loss)"),
            ("rewards/margins", "reward margin (chosen - rejected)")]
    present = [(k, t) for k, t in keys if any(k in row for rows in curves.values() for row in rows)]
    present = present or keys[:1]
    fig, axes = plt.subplots(1, len(present), figsize=(5.5 * len(present), 3.4), squeeze=False)
    for ax, (key, title) in zip(axes[0], present):
        for name, rows in curves.items():
            points = [(row.get("step", i), row[key]) for i, row in enumerate(rows)
                      if isinstance(row.get(key), (int, float))]
            if points:
                ax.plot(*zip(*points), marker="o", markersize=3, label=name)
        ax.set_xlabel("step")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return to_png(fig)


def stage_timings(timings: dict[str, dict[str, Any]]) -> bytes:
    names = [n for n, t in timings.items() if t.get("wall_s") is not None]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.2))
    ax.barh(names[::-1], [timings[n]["wall_s"] for n in names][::-1], color="tab:blue")
    ax.set_xlabel("wall time (s)")
    ax.set_title("Wall time per stage", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)
