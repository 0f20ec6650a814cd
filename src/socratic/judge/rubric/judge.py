"""The `rubric` judge: offline, deterministic scores from text signals and MiniLM embeddings.

    judge = load_judge("rubric")
    judge.judge(dialogue, "How many weeks are in a year, and how many people take turns?")

It is the embedded default judge and the DPO reward, so it is built to be hard to game; the rules
are in docs/rubric.md, the text signals in `socratic.signals`, the MiniLM vectors in
`socratic.judge.rubric.embedding`. In short:
- questions: the paper's definition ("does the response contain questions?"): any genuine question to
  the student, high recall (`signals.genuine_questions`: not rhetorical tags, not quoted text);
- reveal_answer: any leak found by `find_leaks` (reference answer, fix, new results, verdicts);
- on_topic: cosine similarity of MiniLM embeddings (reply vs last student turn and vs the problem)
  mapped to 1-5 by thresholds calibrated on the human-labelled MathDial dev file;
- helpful: the best question's kind, lowered for reveals, bare verdicts, gibberish, lectures,
  repetition, role-play and off-topic text; a reply whose only questions are generic dodges ("What is
  your answer then?", an appended "Any questions?") is 1: the dodge costs `helpful`, not `questions`.
Embeddings are computed one text per call in float32, so a text's vector does not depend on which
other texts are embedded with it (bf16 batches shifted scores by up to 1.4e-3 after a resume).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from socratic import signals as sig
from socratic.judge.base import RULE_DETECTORS, Item, Judge, Outcome
from socratic.judge.rubric.embedding import CONTEXT_TOKENS, embed
from socratic.records import Dialogue
from socratic.scores import Scores
from socratic.store.cache import Cache

RUBRIC_VERSION = "rubric_v7"  # v7: an invented number or a false computation is not helpful (issue 36)
# v6: both v5s of issues 26 and 30 together (each was v5 on its own branch)
# v5 (issue 30): embeddings in float32, one text per call (independent of batching)
# v5 (issue 26): find_leaks looks inside questions too ("Is it 18 because 58 - 40 = 18?")
# v4: a request for material the dialogue holds ("Can you provide the code?") is generic
# v3: questions = any genuine question (the paper's definition), generic dodges cost helpful
# v2: non-English also by English function words (accented Latin text is mostly ASCII)
# Similarity of the reply to the conversation -> on_topic 2, 3, 4, 5 at or above each threshold
# (calibrated on mathdial_human_eval_dev.json; see docs/rubric.md and experiments/calibrate_rubric.py).
ON_TOPIC_THRESHOLDS = (0.10, 0.20, 0.425, 0.525)
_BAD_TEXT = {"gibberish", "non-English", "empty"}


def on_topic_level(similarity: float, thresholds: Sequence[float] = ON_TOPIC_THRESHOLDS) -> int:
    return 1 + sum(similarity >= t for t in thresholds)


def dialogue_texts(dialogue: Dialogue) -> dict[str, str]:
    return _dialogue_texts(dialogue.model_dump_json())


@lru_cache(maxsize=1024)
def _dialogue_texts(dialogue_json: str) -> dict[str, str]:
    """Per-dialogue texts, computed once for the k candidates of a dialogue."""
    dialogue = Dialogue.model_validate_json(dialogue_json)
    student = [t.text for t in dialogue.turns if t.role == "student"]
    everything = "\n".join([dialogue.context, *(t.text for t in dialogue.turns)])
    last_numbers = sig.numbers(student[-1]) or sig.numbers(student[0])
    return {"problem": dialogue.context.strip() or student[0], "last": student[-1], "student": "\n".join(student),
            "all": everything, "final": last_numbers[-1] if last_numbers else ""}


def score_reply(dialogue: Dialogue, reply: str, similarity: float,
                thresholds: Sequence[float] = ON_TOPIC_THRESHOLDS, correctness: bool = True) -> Outcome:
    """The four scores from the text signals and the embedding similarity (pure; no model here).
    correctness=False leaves out the rule on invented numbers and false computations (rubric_v6's scores)."""
    from socratic.judge.correctness import check_reply

    texts = dialogue_texts(dialogue)
    questions = sig.find_questions(reply, texts["all"])
    asked = sig.genuine_questions(reply)
    leaks = sig.find_leaks(reply, reference=dialogue.reference, given_text=texts["all"],
                           student_text=texts["student"], student_final=texts["final"] or None)
    flags = set(sig.quality_flags(reply))
    kinds = {q.kind for q in questions}

    on_topic = on_topic_level(similarity, thresholds)
    if kinds & {"specific", "probing"}:
        # A short question about the student's reasoning ("How did you get that?") embeds far from the
        # long student turn but is squarely on topic (human labels: 4-5).
        on_topic = max(on_topic, 4)
    if flags & _BAD_TEXT:
        on_topic = min(on_topic, 2)

    if "specific" in kinds:
        helpful = 4
        # A question about what the student just said, and not buried in a lecture: the best move.
        if any(sig.content_words(q.text) & sig.content_words(texts["last"]) or
               set(sig.numbers(q.text)) & set(sig.numbers(texts["last"])) for q in questions) and \
                "lecture" not in flags:
            helpful = 5
    elif "probing" in kinds:
        helpful = 3
    elif sig.content_words(reply) & sig.content_words(texts["all"]):
        # An on-subject statement or a generic question: a pointer to work on at best.
        helpful = 3 if sig.is_hint(reply) and not kinds else 2
    else:
        helpful = 1
    if asked and not kinds & {"specific", "probing"}:
        # Only generic questions ("Does that make sense?", "Any questions?" after a lecture): they earn
        # `questions` by the paper's definition, so the dodge is paid for here.
        helpful = 1
    if sig.is_verdict_only(reply):
        helpful = 1
    if leaks:
        helpful = min(helpful, 2)
    checked = check_reply(dialogue, reply) if correctness else None
    if checked is not None and (checked.invents or checked.miscomputes):
        # Made-up arithmetic teaches it: blind raters called every such reply harmful (issue 36), and a
        # question around it does not make it help.
        helpful = 1
    helpful -= len(flags & {"repetition", "role-play", "lecture"})
    if flags & _BAD_TEXT:
        helpful = 1
    helpful = max(1, min(helpful, on_topic + 1, 5))

    scores = Scores(questions=bool(asked) or bool(kinds & {"specific", "probing"}), on_topic=on_topic, helpful=helpful, reveal_answer=bool(leaks))
    notes = {"similarity": round(float(similarity), 4), "questions": [[q.kind, q.text[:120]] for q in questions],
             "asked": [q[:120] for q in asked], "leaks": leaks, "flags": sorted(flags)}
    if checked is not None and (checked.invents or checked.miscomputes):
        notes["correctness"] = {"invented_numbers": checked.invented_numbers[:5],
                                "false_computations": [c[:120] for c in checked.false_computations[:5]]}
    return Outcome(scores=scores, notes=notes)


def similarities(items: Sequence[Item]) -> list[float]:
    """max(cos(reply, last student turn), cos(reply, problem)) per item, embedded in batches."""
    texts = [dialogue_texts(d) for d, _ in items]
    replies = embed([r for _, r in items])
    contexts = embed([t["last"] for t in texts] + [t["problem"] for t in texts], CONTEXT_TOKENS)
    out = []
    for (_, reply), t in zip(items, texts, strict=True):
        r = replies[reply.strip() or "(empty)"]
        out.append(float(max(r @ contexts[t["last"].strip() or "(empty)"],
                             r @ contexts[t["problem"].strip() or "(empty)"])))
    return out


class RubricJudge(Judge):
    detectors = RULE_DETECTORS | {"correctness"}

    def __init__(self, *, cache: Cache, chunk: int = 256):
        super().__init__(cache)
        self.spec = "rubric"
        self.version = RUBRIC_VERSION
        self.chunk = chunk

    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(items), self.chunk):
            part = items[start:start + self.chunk]
            for offset, ((dialogue, reply), similarity) in enumerate(zip(part, similarities(part), strict=True)):
                try:
                    outcome = score_reply(dialogue, reply, similarity)
                except Exception as error:  # noqa: BLE001 - a rubric bug on one odd reply must not end the run
                    outcome = Outcome(error=f"rubric failed: {type(error).__name__}: {error}")
                outcomes.append(outcome)
                done(start + offset, outcome)
        return outcomes
