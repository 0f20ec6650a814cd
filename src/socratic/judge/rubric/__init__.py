"""The `rubric` judge: offline, deterministic scores from the text detectors (socratic.signals) and MiniLM
similarities, calibrated by hand on the human-labelled MathDial dev file (docs/rubric.md).

    judge.py  RubricJudge, the scoring rules (`score_reply`), the on_topic thresholds and the MiniLM encoder
"""
