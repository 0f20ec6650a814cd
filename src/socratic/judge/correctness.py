"""Is what a reply says about the numbers true? Two plain checks, no model, for math tutoring.

    check = check_reply(dialogue, "So, 105 divided by 80 is 0.125. So, Sam weighs 0.125 pounds.")
    check.false_computations   # ['105 divided by 80 is 0.125']
    check.invented_numbers     # ['0.125'] when 0.125 is nowhere in the problem, the turns or the solution

- **invented number**: a number the reply states (digits, outside code) that appears nowhere in what the
  tutor was given: the problem (context), any turn of the conversation, or the dialogue's reference (the
  worked solution: GSM8K's, for every MathDial problem). Small counting numbers (0-10, 100: "step 2", "100%")
  and the percent/hundredth forms of a known number are not counted. Blind raters called every reply with
  such a number harmful in the sample of issue 36: a tutor that makes up arithmetic teaches it.
- **false computation**: a stated computation "a OP b [OP c ...] = / is / equals / makes c" (OP: + - x * × ÷ /,
  plus, minus, times, multiplied by, divided by; "a% of b") whose result is off by more than rounding.

Where they are used: evaluate.tutoring reports both per model as judge-free rates (the pairwise judge takes
them as features too, so they are not independent of it: the report says so).
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field

from socratic.records import Dialogue
from socratic.signals import canonical_number, numbers

# Numbers a tutor may say without inventing anything: counting, "step 2", "100%", "half" in digits.
ORDINARY_NUMBERS = frozenset({str(n) for n in range(11)} | {"100"})
# A computation's result is false when it is further than this from the truth, relatively (rounding: "1/3 =
# 0.33", "$12.50 / 3 = 4.17" are right) and the stated result is not the true one rounded to whole or cents.
RELATIVE_TOLERANCE = 0.01

_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`|<code>.*?(?:</code>|\Z)", re.DOTALL)
_NUM = r"\$?\s?\d[\d,]*(?:\.\d+)?"
_OP = (r"\s*(?:\+|-|−|\*|x|×|÷|/|plus|minus|times|multiplied\s+by|divided\s+by|over)\s*")
_EQUALS = r"\s*(?:=|is|are|equals|makes|gives(?:\s+us|\s+you)?|would\s+be|will\s+be)\s*"
_COMPUTATION = re.compile(
    rf"(?<![\w.$])(?P<expr>(?:{_NUM}\s*%\s*of\s*{_NUM})|(?:{_NUM}(?:{_OP}{_NUM})+)){_EQUALS}(?P<result>{_NUM})(?![\d.]*\d)",
    re.IGNORECASE)
_TOKENS = [("+", r"\+|plus"), ("-", r"-|−|minus"), ("*", r"\*|x|×|times|multiplied\s+by"),
           ("/", r"÷|/|divided\s+by|over")]
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


@dataclass(frozen=True)
class Correctness:
    invented_numbers: list[str] = field(default_factory=list)
    false_computations: list[str] = field(default_factory=list)

    @property
    def invents(self) -> bool:
        return bool(self.invented_numbers)

    @property
    def miscomputes(self) -> bool:
        return bool(self.false_computations)


def _prose(text: str) -> str:
    return _CODE.sub(" ", text)


def _value(number: str) -> float:
    return float(number.replace("$", "").replace(",", "").replace(" ", ""))


def _evaluate(node: ast.AST) -> float:
    """The value of an arithmetic tree of numbers and + - * / (nothing else is ever evaluated)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    raise ValueError("not arithmetic")


def expression_value(expression: str) -> float | None:
    """'105 divided by 80' -> 1.3125; '20% of 50' -> 10.0; None for anything that is not plain arithmetic."""
    percent = re.fullmatch(rf"({_NUM})\s*%\s*of\s*({_NUM})", expression.strip(), re.IGNORECASE)
    if percent:
        return _value(percent.group(1)) / 100 * _value(percent.group(2))
    text = re.sub(_NUM, lambda m: repr(_value(m.group())), expression)
    for symbol, pattern in _TOKENS:
        text = re.sub(rf"\s*(?:{pattern})\s*", f" {symbol} ", text, flags=re.IGNORECASE)
    try:
        return _evaluate(ast.parse(text, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


def is_false(truth: float, stated: float) -> bool:
    if abs(truth - stated) <= RELATIVE_TOLERANCE * max(abs(truth), 1e-9):
        return False
    return all(round(truth, digits) != stated for digits in (0, 1, 2))


@dataclass(frozen=True)
class Computation:
    text: str  # as the reply states it: "105 divided by 80 is 0.125"
    operands: tuple[str, ...]  # canonical numbers
    result: str
    false: bool


def computations(reply: str) -> list[Computation]:
    """Every stated computation of plain arithmetic in the reply, checked (module docstring)."""
    out = []
    for match in _COMPUTATION.finditer(_prose(reply)):
        truth = expression_value(match.group("expr"))
        if truth is not None:
            out.append(Computation(match.group().strip(), tuple(_unsigned(match.group("expr"))),
                                   _unsigned(match.group("result"))[0], is_false(truth, _value(match.group("result")))))
    return out


def false_computations(reply: str) -> list[str]:
    return [c.text for c in computations(reply) if c.false]


def _unsigned(text: str) -> list[str]:
    """The numbers of a text without their signs: in "105 - 80" the minus is the operation, not part of 80."""
    return [n.lstrip("-") for n in numbers(text, with_words=False)]


def known_numbers(dialogue: Dialogue) -> set[str]:
    """Every number the tutor was given, with its percent and hundredth forms ("0.25" <-> "25")."""
    text = "\n".join([dialogue.context, *(t.text for t in dialogue.turns), dialogue.reference or ""])
    known = set(_unsigned(text))
    for number in list(known):
        value = _value(number)
        known |= {n for n in (canonical_number(str(value * 100)), canonical_number(str(value / 100))) if n}
    return known


def invented_numbers(reply: str, dialogue: Dialogue) -> list[str]:
    """Numbers of the reply found nowhere in the problem, the turns or the reference (module docstring). The
    true result of a stated computation on known numbers is derived, not invented ("80 + 25 = 105")."""
    known = known_numbers(dialogue) | ORDINARY_NUMBERS
    for computation in computations(reply):
        if not computation.false and set(computation.operands) <= known:
            known.add(computation.result)
    return list(dict.fromkeys(n for n in _unsigned(_prose(reply)) if n not in known))


def check_reply(dialogue: Dialogue, reply: str) -> Correctness:
    return Correctness(invented_numbers=invented_numbers(reply, dialogue),
                       false_computations=false_computations(reply))
