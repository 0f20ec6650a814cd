"""Lenient parsing and strict validation of an LLM judge's answer into `Scores`.

    parse_judgment('```json\\n{"questions": "yes", "on_topic": "4.0", ...}\\n```')  -> Scores(...)

Accepted leniencies: code fences, prose around the JSON object, Python-style dicts, "yes"/"no"
and "true"/"false" strings for booleans, "4", "4.0", 4.0 and "4/5" for 1-5 integers, keys in any
case or with spaces/hyphens ("On-topic"), extra keys (ignored), and `key: value` lines when there is
no JSON object at all. Everything else raises `JudgmentParseError` with a message that lists every
problem at once; the LLM judge sends that message back to the model when it asks again.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from socratic.scores import CRITERIA, Scores

# The JSON schema passed to backends with structured output (OpenAI `response_format`).
JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "questions": {"type": "boolean"},
        "on_topic": {"type": "integer", "minimum": 1, "maximum": 5},
        "helpful": {"type": "integer", "minimum": 1, "maximum": 5},
        "reveal_answer": {"type": "boolean"},
    },
    "required": list(CRITERIA),
    "additionalProperties": False,
}

BOOLEAN_CRITERIA = ("questions", "reveal_answer")
_TRUE = {"true", "yes", "y"}
_FALSE = {"false", "no", "n"}
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_KEY_LINE = re.compile(r"^\W*([A-Za-z][A-Za-z _-]*?)\W*\s*[:=]\s*\W*([A-Za-z0-9.]+)", re.MULTILINE)


class JudgmentParseError(ValueError):
    """The judge's answer is not a complete, valid judgment; the message says what to fix."""


def normalise_key(key: str) -> str:
    return re.sub(r"[\s-]+", "_", str(key).strip().lower())


def extract_object(text: str) -> dict[str, Any]:
    """The first JSON (or Python-literal) object in `text`, looking inside code fences first."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for chunk in candidates:
        for start in [i for i, ch in enumerate(chunk) if ch == "{"]:
            try:
                obj, _ = decoder.raw_decode(chunk, start)
            except json.JSONDecodeError:
                obj = _python_literal(chunk, start)
            if isinstance(obj, dict):
                return obj
    pairs = {normalise_key(k): v for k, v in _KEY_LINE.findall(text)}
    if any(name in pairs for name in CRITERIA):
        return pairs  # "questions: yes\non_topic: 4 ..." without braces
    raise JudgmentParseError("no JSON object found; answer with one JSON object only")


def _python_literal(chunk: str, start: int) -> Any:
    """A dict written Python-style ({'questions': True}); None if it is not one."""
    depth = 0
    for end in range(start, len(chunk)):
        depth += {"{": 1, "}": -1}.get(chunk[end], 0)
        if depth == 0:
            source = chunk[start:end + 1]
            source = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", source))
            try:
                return ast.literal_eval(source)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
    return None


def coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().strip(".").lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"expected true or false, got {value!r}")


def coerce_scale(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number from 1 to 5, got {value!r}")  # noqa: TRY004
    number: float
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().split("/")[0].strip()  # "4/5" -> "4"
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a whole number from 1 to 5, got {value!r}") from None
    else:  # ValueError like every other invalid value: the caller reports them all alike
        raise ValueError(f"expected a whole number from 1 to 5, got {value!r}")  # noqa: TRY004
    if number != int(number):
        raise ValueError(f"expected a whole number from 1 to 5, got {value!r}")
    if not 1 <= number <= 5:
        raise ValueError(f"{value!r} is out of range; expected a whole number from 1 to 5")
    return int(number)


def validate(obj: dict[str, Any]) -> Scores:
    """Scores from a parsed object; every problem is reported in one JudgmentParseError."""
    found = {normalise_key(k): v for k, v in obj.items()}
    values: dict[str, Any] = {}
    problems = []
    for name in CRITERIA:
        if name not in found:
            problems.append(f"{name}: missing")
            continue
        try:
            values[name] = coerce_bool(found[name]) if name in BOOLEAN_CRITERIA else coerce_scale(found[name])
        except ValueError as error:
            problems.append(f"{name}: {error}")
    if problems:
        raise JudgmentParseError("; ".join(problems))
    return Scores(**values)


def parse_judgment(text: str) -> Scores:
    """Scores from a judge's raw answer, or JudgmentParseError saying exactly what is wrong."""
    if not text or not text.strip():
        raise JudgmentParseError("empty answer; answer with one JSON object")
    return validate(extract_object(text))
