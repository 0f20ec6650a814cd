"""Small made-up dialogues for flow tests."""

from __future__ import annotations

from socratic.records import Dialogue, Turn


def dialogues(source: str, n: int = 6) -> list[Dialogue]:
    return [Dialogue(id=f"{source}-test-{i:04d}", source=source, split="test", context=f"Problem {i}",
                     turns=(Turn(role="student", text=f"I think the result is {i}. Is it right?"),))
            for i in range(n)]


def make_dialogues(n: int) -> list[Dialogue]:
    return [Dialogue(id=f"t-{i}", source="test", split="train", context=f"What is {i} + {i}?",
                     turns=(Turn(role="student", text=f"I think it is {i}."),), reference=str(2 * i))
            for i in range(n)]
