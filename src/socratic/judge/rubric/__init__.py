"""The `rubric` judge: offline, deterministic scores from the text detectors (socratic.signals) and MiniLM
similarities, calibrated by hand on the human-labelled MathDial dev file (docs/rubric.md).

    judge.py      RubricJudge: the scoring rules (`score_reply`) and the calibrated on_topic thresholds
    embedding.py  the MiniLM sentence vectors (shared with the learned and pairwise judges' features)
"""
