"""Small made-up dialogues for flow tests."""

from __future__ import annotations

import json
from pathlib import Path

from socratic.records import Dialogue, Turn
from socratic.render import render_messages


def dialogues(source: str, n: int = 6) -> list[Dialogue]:
    return [Dialogue(id=f"{source}-test-{i:04d}", source=source, split="test", context=f"Problem {i}",
                     turns=(Turn(role="student", text=f"I think the result is {i}. Is it right?"),))
            for i in range(n)]


def make_dialogues(n: int) -> list[Dialogue]:
    return [Dialogue(id=f"t-{i}", source="test", split="train", context=f"What is {i} + {i}?",
                     turns=(Turn(role="student", text=f"I think it is {i}."),), reference=str(2 * i))
            for i in range(n)]


PROBLEMS = [("Tom has 3 apples and buys 4 more. How many now?", "7"),
            ("A car goes 60 km in an hour. How far in 3 hours?", "180 km"),
            ("What is 12 divided by 4?", "3"),
            ("Sara reads 5 pages a day. How many in a week?", "35"),
            ("A box holds 6 eggs. How many eggs in 4 boxes?", "24")]


def write_pairs(path: Path, n: int = len(PROBLEMS)) -> Path:
    """A pairs.jsonl of the first n PROBLEMS: a guiding question chosen over the stated answer."""
    with path.open("w") as f:
        for i, (problem, answer) in enumerate(PROBLEMS[:n]):
            dialogue = Dialogue(id=f"p{i}", source="test", split="train", context=problem,
                                turns=[Turn(role="student", text="I got it wrong. Can you help?")],
                                reference=answer)
            f.write(json.dumps({
                "prompt": render_messages(dialogue),
                "chosen": [{"role": "assistant", "content": "What numbers does the problem give you?"}],
                "rejected": [{"role": "assistant", "content": f"The answer is {answer}."}],
                "chosen_score": 1.0, "rejected_score": 0.25, "dialogue_id": dialogue.id}) + "\n")
    return path
