"""Teacher-anchored preference pairs: the real teacher's turn chosen over the current model's reply to the
same conversation, mixed with the judge-ranked pairs at a stated share.

The judge-ranked pairs learn only from the model's own samples: the best of k replies of a 135M model is
rarely a good tutor turn. A teacher-anchored pair puts a real tutor turn (socratic.data.teacher_turns: the
training dialogues' histories, never a test problem) on the chosen side and the model's own sample for
that context (sampled by the round's model: on-policy in every round) on the rejected side.

    dialogues = teacher_dialogues(("mathdial",), limit=200, seed=0)   # each with meta["teacher_reply"]
    # the policy samples one reply per dialogue (socratic generate, k=1); the teacher's turns become
    # candidates of the model "teacher" (teacher_candidates); the reward judge scores both
    pairs, stats = select_teacher_pairs(judgments, "uniform")
    judged, teacher = mix_pairs(judged_pairs, pairs, share=0.5)

The judge is not asked which reply is better: the teacher's is chosen. Where the judge scores the model's
reply above the teacher's, the pair is kept and counted (`model_above_teacher`, in the pairs card): a count
of how often the judge would have trained the opposite way, not a reason to drop the teacher.
`socratic run` makes these stages when `pairs.teacher_share` > 0 (socratic.pipeline.stages).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from socratic.data.teacher_turns import TEACHERS_OF, load_teacher_turns, teacher_reply
from socratic.errors import SocraticError
from socratic.preference.pairs import EPS, Pair, PairsConfig, candidate_index, group_by_dialogue
from socratic.records import Candidate, Dialogue
from socratic.scores import Formula, Judgment, judgment_summary

TEACHER_MODEL = "teacher"  # the reserved model name of a teacher's turn among candidates and judgments


def teacher_dialogues(sources: Sequence[str], *, limit: int | None = None, seed: int = 0,
                      include_model_written: bool = False) -> list[Dialogue]:
    """The teacher turns of `sources` as dialogues carrying their turn in meta["teacher_reply"]; at most
    `limit` of them, a seeded sample kept in the turns' order."""
    turns = load_teacher_turns(sources, include_model_written=include_model_written)
    if limit is not None and limit < len(turns):
        keep = set(random.Random(seed).sample(range(len(turns)), limit))
        turns = [turn for index, turn in enumerate(turns) if index in keep]
    out = []
    for turn in turns:
        alternative = turn.meta.get("alternative", 0)
        suffix = f"-alt{alternative}" if alternative else ""  # the benchmark's alternatives share a dialogue
        out.append(turn.dialogue.model_copy(update={
            "id": turn.dialogue.id + suffix,
            "meta": {**turn.dialogue.meta, "teacher_reply": turn.reply, "teacher_source": turn.source,
                     "written_by": turn.written_by}}))
    return out


def sources_of(dataset: str) -> tuple[str, ...]:
    """The teachers of a training dataset, or a one-line refusal."""
    if dataset not in TEACHERS_OF:
        raise SocraticError(f"pairs.teacher_share: no teacher turns known for the training dataset {dataset!r} "
                            f"({', '.join(TEACHERS_OF)} have some)")
    return TEACHERS_OF[dataset]


def teacher_candidates(dialogues: Iterable[Dialogue], index: int = 1) -> list[Candidate]:
    """Each dialogue's teacher turn as a candidate of the model "teacher", so the judge scores it like the
    model's (index after the model's samples, so the two never share one)."""
    return [Candidate(dialogue=d, reply=reply, model=TEACHER_MODEL, index=index) for d in dialogues
            if (reply := teacher_reply(d))]


@dataclass
class TeacherPairStats:
    contexts: int = 0  # dialogues with judgments
    pairs: int = 0  # teacher-anchored pairs formed
    model_above_teacher: int = 0  # ... of which the judge scores the model's reply higher (kept, counted)
    ties: int = 0  # ... of which the judge scores both the same
    no_model_reply: int = 0  # no usable model reply: missing, empty, or the teacher's own words
    unjudged: int = 0  # the teacher's or the model's judgment failed: no scores to write, so no pair
    mixed_in: int = 0  # kept after the mix with the judge-ranked pairs (mix_pairs)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def select_teacher_pairs(judgments: Iterable[Judgment], formula: Formula = "uniform") -> tuple[list[Pair],
                                                                                               TeacherPairStats]:
    """Per dialogue: chosen = the teacher's turn, rejected = the model's first sample; in dialogue order."""
    stats, pairs = TeacherPairStats(), []
    for group in group_by_dialogue(judgments).values():
        stats.contexts += 1
        teacher = next((j for j in group if j.meta.get("model") == TEACHER_MODEL), None)
        samples = sorted((j for j in group if j.meta.get("model") != TEACHER_MODEL), key=candidate_index)
        model = samples[0] if samples else None
        if teacher is None or model is None or not model.reply.strip() or \
                " ".join(model.reply.split()) == " ".join(teacher.reply.split()):
            stats.no_model_reply += 1
            continue
        if not (teacher.ok and model.ok):
            stats.unjudged += 1
            continue
        chosen, rejected = judgment_summary(teacher, formula), judgment_summary(model, formula)
        stats.model_above_teacher += rejected > chosen + EPS
        stats.ties += abs(rejected - chosen) <= EPS
        pairs.append(Pair(teacher, model, chosen, rejected))
    stats.pairs = len(pairs)
    return pairs, stats


def mix_pairs(judged: Sequence[Pair], teacher: Sequence[Pair], share: float,
              seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """(judge-ranked, teacher-anchored) pairs kept so that the teacher-anchored ones are `share` of all: the
    most pairs that hold the share, a seeded sample of the kind there is too much of, in their order."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share {share} is not in [0, 1]")
    if share == 0.0 or not teacher:
        return list(judged), []
    if share == 1.0 or not judged:
        return ([], list(teacher)) if share == 1.0 else (list(judged), [])
    total = min(len(teacher) / share, len(judged) / (1.0 - share))
    n_teacher = min(len(teacher), round(share * total))
    n_judged = min(len(judged), round(total) - n_teacher)
    rng = random.Random(seed)

    def sample(pairs: Sequence[Pair], n: int) -> list[Pair]:
        keep = set(rng.sample(range(len(pairs)), n))
        return [pair for index, pair in enumerate(pairs) if index in keep]

    return sample(judged, n_judged), sample(teacher, n_teacher)


def run(config: PairsConfig) -> Path:
    """`socratic pairs` with the teachers' judgments (a pairs.PairsConfig with teacher_judgments): the
    judge-ranked pairs and the teacher-anchored ones, mixed at config.teacher_share, into one pairs.jsonl."""
    from socratic.preference import pairs as pairs_stage
    from socratic.store.jsonl import read_jsonl

    if config.teacher_judgments is None:
        raise SocraticError("teacher-anchored pairs need the teachers' judgments (--teacher-judgments)")
    judgments, judged, dropped = pairs_stage.select_from(config)
    anchored, stats = select_teacher_pairs(read_jsonl(config.teacher_judgments, Judgment), config.formula)
    if not anchored:
        raise SocraticError(f"{config.teacher_judgments}: no teacher-anchored pair could be formed "
                            f"({stats.contexts} teacher turns judged)")
    judged, anchored = mix_pairs(judged, anchored, config.teacher_share)
    stats.mixed_in = len(anchored)
    return pairs_stage.write(config, judgments, judged, dropped, anchored=anchored, teacher_stats=stats.as_dict())
