"""The clean test set: test dialogues no evaluation judge was fitted or calibrated on.

    seen = {spec: seen_groups(load_judge(spec)) for spec in judges}     # the I/O edge (judges loaded)
    clean = clean_set(test_sets, seen)                                   # pure: CleanSet
    kept = [j for j in judgments if not is_excluded(clean, j.meta["dataset"], j.dialogue.id)]

A judge that learned from human labels (the `learned` judge: the socratic_llm dev file, MRBench, BEA) or
whose rules were calibrated by hand on them (the rubric: the socratic_llm dev file) has seen replies to
some test problems: the 50 dev replies answer 50 of the 101 MathDial test dialogues. Its score on a
reply to such a problem is not out of sample, so the headline lift leaves those dialogues out
(`Evaluation.paired_clean`) and the report shows the lift on all items apart.

Same definition as `socratic agreement` (socratic.agreement.cv): a test dialogue overlaps a judge when its
group (`socratic.judge.labels.human.group_key`: the problem, MathDial problems recur across sources; else the
conversation) is among the groups the judge saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from socratic.evaluate.result import CleanSet
from socratic.records import Dialogue, LabelledReply


def dialogue_group(dialogue: Dialogue) -> str:
    """The cross-validation group of a test dialogue (the same key the judges' training items have)."""
    from socratic.judge.labels.human import group_key

    return group_key(LabelledReply(dialogue=dialogue, reply=""))


def seen_groups(judge: Any) -> tuple[set[str], str] | None:
    """(groups, what the judge did with them) a judge was fitted or calibrated on; None: it saw no labels."""
    from socratic.agreement.cv import _seen_keys  # the one definition, shared with `socratic agreement`

    seen = _seen_keys(judge)
    return None if seen is None else (seen[1], seen[2])


def clean_set(test_sets: Mapping[str, Sequence[Dialogue]],
              seen: Mapping[str, tuple[set[str], str] | None]) -> CleanSet:
    """Which test dialogues each judge has seen the group of: excluded from the headline lift."""
    groups = {name: {d.id: dialogue_group(d) for d in dialogues} for name, dialogues in test_sets.items()}
    excluded: dict[str, list[str]] = {name: [] for name in test_sets}
    notes = {}
    for judge, found in seen.items():
        if found is None:
            notes[judge] = "learned from no human labels: no test item excluded for it"
            continue
        judge_groups, verb = found
        hits = {name: [i for i, g in ids.items() if g in judge_groups] for name, ids in groups.items()}
        for name, ids in hits.items():
            excluded[name] = sorted(set(excluded[name]) | set(ids))
        shown = ", ".join(f"{len(ids)} of {len(groups[name])} {name}" for name, ids in hits.items() if ids) or "none"
        notes[judge] = f"{verb} replies to the problems/conversations of {shown} test items"
    return CleanSet(excluded={name: ids for name, ids in excluded.items() if ids},
                    totals={name: len(dialogues) for name, dialogues in test_sets.items()}, judges=notes)


def is_excluded(clean: CleanSet, dataset: str, dialogue_id: str) -> bool:
    return dialogue_id in clean.excluded.get(dataset, ())
