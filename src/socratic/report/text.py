"""How the report writes numbers and long model text (shared by build.py and checks.py)."""

from __future__ import annotations

from socratic.evaluate.stats import Estimate

CLIP = 700


def clip(text: str | None, limit: int = CLIP) -> str:
    """Shorten long text in the middle: its start sets the scene, its end holds the question."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3
    return text[:head].rstrip() + " … " + text[-(limit - head - 3):].lstrip()


def fmt(estimate: Estimate | None, digits: int = 2) -> str:
    if estimate is None or estimate.mean is None:
        return "–"
    return f"{estimate.mean:.{digits}f} [{estimate.low:.{digits}f}, {estimate.high:.{digits}f}]"
