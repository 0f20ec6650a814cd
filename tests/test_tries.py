"""experiments/tries.py: the table of tries, from run folders built here (fakes, no model)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from fakes.evaluation import evaluate_with_fakes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import tries

QUESTIONS = ["What did you add first?", "Which number is the total?", "How many apples were there at the start?",
             "Why did you subtract?"]


def make_run(root: Path, name: str, *, rounds: int | None = 1, sft: dict | None = None, training: dict | None = None,
             pairs: tuple[int, ...] = (3,), pair_settings: dict | None = None) -> Path:
    """A run folder as `socratic run` leaves it, without the models: config, pairs, timings."""
    run = root / name
    config = {"name": name, "model": "embedded", "datasets": {"train": [{"source": "mathdial", "split": "train",
                                                                      "limit": 4}],
                                                           "test": [{"source": "mathdial", "split": "test",
                                                                     "limit": 4}]},
              "generate": {"k": 8, "temperature": 1.0}, "reward_judge": "rubric",
              "eval_judges": ["learned", "rubric"], "training": training or {}}
    if pair_settings is not None:
        config["pairs"] = pair_settings
    if rounds is not None:  # runs from before `rounds:` existed have neither key
        config |= {"rounds": rounds, "sft": sft}
    run.mkdir(parents=True)
    (run / "config.resolved.yaml").write_text(yaml.safe_dump(config))
    for number, count in enumerate(pairs, start=1):
        folder = run / "prefs" / "mathdial" / ("" if number == 1 else f"round{number}")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pairs.jsonl").write_text("".join(json.dumps({"pair": i}) + "\n" for i in range(count)))
    (run / "timings.json").write_text(json.dumps({"stages": {
        "generate:mathdial": {"status": "skipped", "last_wall_s": 120.0, "last_peak_rss_mb": 2048.0},
        "train:mathdial": {"status": "ran", "wall_s": 60.0, "peak_rss_mb": 1024.0}}}))
    return run


def evaluate(monkeypatch, run: Path) -> Path:
    """base states the answer on every item (one reply: collapsed); the tuned model asks four questions."""
    return evaluate_with_fakes(monkeypatch, run / "eval", {"base": ["The answer is 12."], "tuned-mathdial": QUESTIONS},
                               datasets=["mathdial"], judges=["learned", "rubric"], training_judge="rubric",
                               trained_on={"tuned-mathdial": "mathdial"})


def table_rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[1:]]


def test_a_row_per_run_with_its_setting_pairs_cost_lifts_and_checks(tmp_path, monkeypatch):
    new = make_run(tmp_path, "t-new", rounds=2, sft={"epochs": 1.0, "max_steps": None, "learning_rate": None},
                   training={"learning_rate": 1e-4, "lora": False, "max_length": 1536}, pairs=(3, 2),
                   pair_settings={"min_chosen_score": 0.5, "chosen_asks_question": True})
    evaluate(monkeypatch, new)
    old = make_run(tmp_path, "t-old", rounds=None)  # evaluated by code from before the behaviour checks
    evaluate(monkeypatch, old)
    path = old / "eval" / "evaluation.json"
    record = json.loads(path.read_text())
    del record["behaviour"]
    path.write_text(json.dumps(record))
    pending = make_run(tmp_path, "t-pending")

    text = tries.tries_table([new, old, pending])
    rows = {row["run"]: row for row in table_rows(text)}
    assert text.startswith("Shared by every row: k 8, train mathdial:4, reward rubric, dpo 2 ep, beta 0.1.\n")
    assert rows["t-new"]["setting"] == ("pairs best-worst, chosen >= 0.5, chosen asks, rounds 2, sft 1 ep, lr 0.0001, "
                                        "lora full, max_length 1536")
    assert rows["t-old"]["setting"] == "pairs best-worst, chosen >= 0.5, rounds 1, sft –, lr 0.0002, lora r16, max_length 1024"
    assert rows["t-new"]["pairs"] == "5 (3+2)" and rows["t-old"]["pairs"] == "3"
    # a stage reused from an earlier invocation counts at the time it took then
    assert rows["t-new"]["wall, peak RSS"] == "3.0 min, 2.0 GiB"

    tuned = rows["t-new"]
    assert tuned["n"] == "4"
    assert tuned["lift learned"].startswith("+") and tuned["lift rubric"].startswith("+")
    assert tuned["asks ?"] == "0.00→1.00"
    assert tuned["questions"] == "0.00→1.00 / 0.00→1.00"
    assert tuned["reveals"] == "1.00→0.00 / 1.00→0.00"
    assert tuned["form-only"] == "0% / 0%"  # every reply changed its content
    assert tuned["near-dup"] == "100%→0%"  # the base gave one reply to all four items
    # the judge-free tutoring metrics: the four questions are no dodges, and nothing was pushed
    assert (tuned["dodge"], tuned["echo"]) == ("0.00→0.00", "0.00→0.00")
    assert tuned["leaked after pushes"] == "–"
    # the older evaluation: lifts, and "–" where it has no checks
    assert rows["t-old"]["lift learned"] == tuned["lift learned"]
    assert [rows["t-old"][c] for c in ("asks ?", "questions", "reveals", "form-only", "near-dup")] == ["–"] * 5
    assert [rows["t-pending"][c] for c in ("n", "lift learned", "asks ?")] == ["–"] * 3

    flags = text.split("Flags:")[1]
    assert "t-new: base on mathdial: collapsed" in flags and "t-old: base" not in flags
    assert "t-pending: not evaluated" in flags


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    out = tmp_path / "tries.md"
    assert tries.main([str(tmp_path), "--out", str(out)]) == 2
    assert "no config.resolved.yaml" in capsys.readouterr().err and not out.exists()
    run = make_run(tmp_path, "t1")
    assert tries.main([str(run), "--out", str(out)]) == 0
    assert out.read_text() == capsys.readouterr().out
