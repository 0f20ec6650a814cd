"""Chosen/rejected preference pairs from judged candidates, with a dataset card.

    socratic pairs --judgments judgments.jsonl -o pairs.jsonl [--strategy best-worst|all-pairs]
                   [--min-chosen 0.5] [--min-margin 0.05]

The paper's rule is best-scoring candidate = chosen, worst = rejected. `select_pairs` (pure) adds
the guards the reference lacked, applied per dialogue in this order:

1. `judge_failed`: any judgment of the dialogue failed -> the dialogue is skipped. A failed
   candidate may have been the true best or worst, so a pair from the rest would not be what the
   rule says; the failure is counted, not papered over.
2. Replies with the same text (whitespace-normalised) count once: identical texts never form a pair.
   `too_few_candidates`: fewer than 2 distinct replies remain.
3. Candidates are ranked by a total order (the tie-breaking rule): higher summary first, then the
   criteria in `scores.CRITERIA` order (asks a question, higher on_topic, higher helpful, does not
   reveal the answer), then the shorter reply, then the lower candidate index, then the text.
   best-worst: chosen = first, rejected = last.
   all-pairs: every (higher, lower) pair of distinct replies that passes the two checks below.
4. `chosen_no_question` (only with `chosen_asks_question`): no distinct reply asks a question by the
   judge's `questions` criterion. With the filter the chosen side is the best-ranked reply that asks one
   (best-worst), or only askers are chosen (all-pairs): the question filter of configs/cpu.yaml, stated
   as itself rather than as a summary threshold that means "asks" only under the uniform formula.
5. `chosen_too_low`: chosen summary < min_chosen_score.
6. `margin_too_small`: chosen - rejected summary < min_margin. A pair is never formed on equal
   scores, even with min_margin 0: a tie carries no preference.

Summaries are recomputed from the scores with `formula` (uniform by default), whatever the judge used.
Output rows are TRL's conversational preference format (`prompt` = render_messages(dialogue),
`chosen`/`rejected` = one assistant message) plus provenance; README.md next to the file is the card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socratic.config import Output
from socratic.errors import SocraticError
from socratic.progress import console
from socratic.records import PairRecord
from socratic.render import load_system_prompt, render_messages
from socratic.scores import CRITERIA, Formula, Judgment, judgment_summary
from socratic.store.jsonl import read_jsonl, write_jsonl, write_text

Strategy = Literal["best-worst", "all-pairs"]
REASONS = ("judge_failed", "too_few_candidates", "chosen_no_question", "chosen_too_low", "margin_too_small")
# Summaries are sums of float steps (0.05 under `reference`); compare margins with a little slack.
EPS = 1e-9


class PairSettings(BaseModel):
    """How pairs are chosen: shared by `socratic pairs`, `socratic preferences` and the pipeline."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    strategy: Output[Strategy] = Field(default="best-worst",
                                       description="best-worst (the paper's) or all-pairs.")
    # Defaults: the chosen reply must be at least middling, and better by one rubric step or more
    # (a step is 0.0625 under `uniform`, 0.05 under `reference`).
    min_chosen_score: Output[float] = Field(default=0.5, ge=0.0, le=1.0, description="Minimum chosen summary.")
    min_margin: Output[float] = Field(default=0.05, ge=0.0, le=1.0,
                                      description="Minimum chosen - rejected summary.")
    chosen_asks_question: Output[bool] = Field(default=False, description=(
        "The question filter: the chosen reply must ask a question (the judge's `questions`)."))
    # Teacher-anchored pairs (socratic.preference.teacher_pairs): a real teacher's turn chosen over the
    # round's model's reply to the same conversation, this share of all pairs.
    teacher_share: Output[float] = Field(default=0.0, ge=0.0, le=1.0, description=(
        "Share of teacher-anchored pairs (the teacher's turn over the model's reply) among all pairs."))
    teacher_limit: Output[int | None] = Field(default=None, ge=1, description=(
        "At most this many teacher turns per round get a model reply (a seeded sample)."))


class PairsConfig(PairSettings):
    """Settings of `socratic pairs`."""

    judgments: Path = Field(description="Judgment JSONL (from socratic judge).")
    out: Path = Field(description="Output pairs JSONL; README.md is written next to it.")
    formula: Output[Formula] = Field(default="uniform", description="Summary formula: uniform or reference.")
    system_prompt: Output[Path | None] = Field(default=None,
                                               description="Tutor system prompt file used at generation.")
    teacher_judgments: Path | None = Field(default=None, description=(
        "Judgments of the teachers' turns and the model's replies to them (teacher-anchored pairs)."))
    answer_key: Output[bool] = Field(default=False, description=(
        "The prompts carry each dialogue's answer key, as generation had it (docs/teachers.md)."))


@dataclass(frozen=True)
class Pair:
    chosen: Judgment
    rejected: Judgment
    chosen_score: float
    rejected_score: float

    @property
    def margin(self) -> float:
        return self.chosen_score - self.rejected_score


def _normal(text: str) -> str:
    return " ".join(text.split())


def candidate_index(judgment: Judgment) -> int:
    index = judgment.meta.get("index", 0)
    return index if isinstance(index, int) else 0


def rank_key(judgment: Judgment, formula: Formula = "uniform") -> tuple:
    """Sort key, best first. Only for judgments with scores."""
    s = judgment.scores
    assert s is not None
    criteria = {"questions": -int(s.questions), "on_topic": -s.on_topic, "helpful": -s.helpful,
                "reveal_answer": int(s.reveal_answer)}
    return (-judgment_summary(judgment, formula), *(criteria[c] for c in CRITERIA), len(judgment.reply),
            candidate_index(judgment), judgment.reply)


def group_by_dialogue(judgments: Iterable[Judgment]) -> dict[str, list[Judgment]]:
    """dialogue id -> its judgments, in first-seen order of dialogues."""
    groups: dict[str, list[Judgment]] = {}
    for judgment in judgments:
        groups.setdefault(judgment.dialogue.id, []).append(judgment)
    return groups


def _asks(judgment: Judgment) -> bool:
    return judgment.scores is not None and bool(judgment.scores.questions)


def select_dialogue(judgments: Sequence[Judgment], strategy: Strategy, min_chosen: float,
                    min_margin: float, formula: Formula = "uniform",
                    chosen_asks_question: bool = False) -> tuple[list[Pair], str | None]:
    """The pairs of one dialogue, or ([], reason) when it yields none."""
    if any(not j.ok for j in judgments):
        return [], "judge_failed"
    ranked = sorted(judgments, key=lambda j: rank_key(j, formula))
    distinct, seen = [], set()
    for judgment in ranked:  # keep the best-ranked copy of each text
        if _normal(judgment.reply) not in seen:
            seen.add(_normal(judgment.reply))
            distinct.append(judgment)
    if len(distinct) < 2:
        return [], "too_few_candidates"
    scores = [judgment_summary(j, formula) for j in distinct]
    choosable = [a for a, j in enumerate(distinct) if _asks(j) or not chosen_asks_question]
    if not choosable:
        return [], "chosen_no_question"
    if strategy == "best-worst":
        candidates = [(choosable[0], len(distinct) - 1)]
    else:
        candidates = [(a, b) for a in choosable for b in range(a + 1, len(distinct))]
    def reason(a: int, b: int) -> str | None:
        if scores[a] < min_chosen - EPS:
            return "chosen_too_low"
        if scores[a] - scores[b] <= EPS or scores[a] - scores[b] < min_margin - EPS:
            return "margin_too_small"
        return None

    pairs = [Pair(distinct[a], distinct[b], scores[a], scores[b]) for a, b in candidates if reason(a, b) is None]
    # A dialogue without pairs is dropped for the reason of its most promising pair (best vs worst).
    # (When the only asker is the worst reply, it is paired with itself: a zero margin.)
    return pairs, None if pairs else reason(choosable[0], len(distinct) - 1)


def select_pairs(judgments: Iterable[Judgment], strategy: Strategy = "best-worst", min_chosen: float = 0.0,
                 min_margin: float = 0.0, formula: Formula = "uniform",
                 chosen_asks_question: bool = False) -> tuple[list[Pair], dict[str, str]]:
    """All pairs, in dialogue order, and {dialogue id: reason} for each dialogue that gave none."""
    if strategy not in ("best-worst", "all-pairs"):
        raise ValueError(f"unknown strategy {strategy!r}")
    pairs: list[Pair] = []
    dropped: dict[str, str] = {}
    for dialogue_id, group in group_by_dialogue(judgments).items():
        found, reason = select_dialogue(group, strategy, min_chosen, min_margin, formula, chosen_asks_question)
        pairs += found
        if reason:
            dropped[dialogue_id] = reason
    return pairs, dropped


def pair_row(pair: Pair, system_prompt: str | None = None, *, answer_key: bool = False) -> dict[str, Any]:
    """One row in TRL's conversational preference format, plus provenance (a records.PairRecord)."""
    dialogue = pair.chosen.dialogue
    return {
        "version": PairRecord.VERSION,  # the row's format (socratic.store.artifact); TRL ignores the column
        "prompt": render_messages(dialogue, system_prompt, answer_key=answer_key),
        "chosen": [{"role": "assistant", "content": pair.chosen.reply}],
        "rejected": [{"role": "assistant", "content": pair.rejected.reply}],
        "chosen_score": round(pair.chosen_score, 6),
        "rejected_score": round(pair.rejected_score, 6),
        "dialogue_id": dialogue.id,
        "source": dialogue.source,
        "chosen_index": candidate_index(pair.chosen),
        "rejected_index": candidate_index(pair.rejected),
    }


def histogram(values: Sequence[float], bins: int = 10) -> list[tuple[str, int]]:
    """Counts in [0, 0.1), [0.1, 0.2), ... [0.9, 1.0]."""
    counts = [0] * bins
    for value in values:
        counts[min(int(value * bins + EPS), bins - 1)] += 1
    return [(f"{i / bins:.1f}-{(i + 1) / bins:.1f}", c) for i, c in enumerate(counts)]


def card_stats(judgments: Sequence[Judgment], pairs: Sequence[Pair], dropped: dict[str, str],
               formula: Formula) -> dict[str, Any]:
    groups = group_by_dialogue(judgments)
    ok = [judgment_summary(j, formula) for j in judgments if j.scores is not None]
    chosen = [p.chosen_score for p in pairs]
    rejected = [p.rejected_score for p in pairs]

    def mean(xs: Sequence[float]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    return {
        "dialogues": len(groups),
        "dialogues_kept": len(groups) - len(dropped),
        "judgments": len(judgments),
        "judgments_failed": sum(1 for j in judgments if not j.ok),
        "pairs": len(pairs),
        "dropped": {reason: Counter(dropped.values()).get(reason, 0) for reason in REASONS},
        "sources": sorted({j.dialogue.source for j in judgments}),
        "models": sorted({str(j.meta["model"]) for j in judgments if "model" in j.meta}),
        "judges": sorted({j.judge for j in judgments}),
        "mean_all": mean(ok), "mean_chosen": mean(chosen), "mean_rejected": mean(rejected),
        "mean_margin": mean([c - r for c, r in zip(chosen, rejected, strict=True)]),
        "histogram": list(zip(histogram(ok), histogram(chosen), histogram(rejected), strict=True)),
    }


def render_card(stats: dict[str, Any], config: PairsConfig, data_file: str) -> str:
    import jinja2
    import yaml

    template = resources.files("socratic.prompts").joinpath("pairs_card.md").read_text("utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(
        stats={**stats, "formula": config.formula, "strategy": config.strategy}, config=config,
        data_file=data_file, reasons=REASONS,
        config_yaml=yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False).strip(),
        size_category="n<1K" if stats["pairs"] < 1000 else "1K<n<10K" if stats["pairs"] < 10000 else "10K<n<100K",
    )


def select_from(config: PairsConfig) -> tuple[list[Judgment], list[Pair], dict[str, str]]:
    """(the judgments, the judge-ranked pairs, {dialogue id: why it gave none}) of config.judgments."""
    judgments = read_jsonl(config.judgments, Judgment)
    if not judgments:
        raise SocraticError(f"{config.judgments}: no judgments")
    pairs, dropped = select_pairs(judgments, config.strategy, config.min_chosen_score, config.min_margin,
                                  config.formula, config.chosen_asks_question)
    return judgments, pairs, dropped


def run(config: PairsConfig) -> Path:
    """Write pairs.jsonl and README.md (both atomically); returns the pairs path. Teacher-anchored pairs
    are mixed in by socratic.preference.teacher_pairs.run, which writes through `write`."""
    if config.teacher_share > 0 or config.teacher_judgments is not None:
        raise SocraticError("teacher-anchored pairs need the teachers' judgments and are made by "
                            "`socratic pairs --teacher-judgments FILE` or `socratic run` (pairs.teacher_share)")
    return write(config, *select_from(config))


def write(config: PairsConfig, judgments: Sequence[Judgment], pairs: Sequence[Pair], dropped: dict[str, str], *,
          anchored: Sequence[Pair] = (), teacher_stats: dict[str, Any] | None = None) -> Path:
    """pairs.jsonl (the judge-ranked pairs, then the teacher-anchored ones, marked `anchor: teacher`) and
    its card README.md, both atomically."""
    system_prompt = load_system_prompt(config.system_prompt)
    rows = [pair_row(p, system_prompt, answer_key=config.answer_key) for p in pairs]
    rows += [pair_row(p, system_prompt, answer_key=config.answer_key) | {"anchor": "teacher"} for p in anchored]
    write_jsonl(config.out, rows)
    stats = card_stats(judgments, [*pairs, *anchored], dropped, config.formula) | {"teacher": teacher_stats}
    card = render_card(stats, config, config.out.name)
    write_text(config.out.parent / "README.md", card)
    summary = ", ".join(f"{r} {n}" for r, n in stats["dropped"].items() if n) or "none"
    console.print(f"{len(pairs)} pairs from {stats['dialogues']} dialogues in {config.out} "
                  f"(dropped: {summary}); mean chosen {stats['mean_chosen']} vs rejected {stats['mean_rejected']}")
    return config.out
