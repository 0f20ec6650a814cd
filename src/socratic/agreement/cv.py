"""Out-of-sample agreement: grouped k-fold for judges that learned from (or were calibrated on) the labels.

    from socratic.agreement.cv import overlap, out_of_fold_judgments
    note = overlap(judge, labelled)                      # how many items/groups the judge has seen
    judgments = out_of_fold_judgments(judge, labelled)   # each item judged by a refit that never saw its group

The honest protocol (issue 17): no reply of a conversation/problem is scored by a judge that saw that
conversation/problem. `fold_of(group, k)` assigns groups to folds by a hash (deterministic, no
seed to choose); for the learned judge, fold f's items are judged by a model refitted on its
training data minus every item whose group is in fold f or whose reply is in fold f.
The rubric's rules and on_topic thresholds were calibrated by hand on the socratic_llm dev file: its
numbers on items of that file are flagged as in-sample (experiments/calibrate_rubric.py cross-validates the
threshold search itself).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from socratic.records import LabelledReply
from socratic.scores import Judgment

DEFAULT_FOLDS = 5


def fold_of(group: str, k: int = DEFAULT_FOLDS) -> int:
    return int(hashlib.sha1(group.encode()).hexdigest(), 16) % k


def _seen_keys(judge: Any) -> tuple[set[str], set[str], str] | None:
    """(item keys, groups, what) a judge was fitted or calibrated on; None when it saw no labels."""
    from socratic.judge.labels.human import group_key, item_key
    from socratic.judge.learned.judge import LearnedJudge
    from socratic.judge.pairwise.judge import PairwiseJudge

    if isinstance(judge, LearnedJudge | PairwiseJudge):
        return set(judge.model.item_keys), set(judge.model.groups), "was fitted on"
    if getattr(judge, "spec", "") == "rubric":
        from socratic.data import load_labelled
        from socratic.data.location import data_file
        from socratic.errors import SocraticError

        try:
            dev = load_labelled(data_file("socratic_llm", "mathdial_human_eval_dev.json"))
        except SocraticError:
            return None
        return {item_key(i) for i in dev}, {group_key(i) for i in dev}, "was calibrated by hand on"
    return None


def overlap(judge: Any, labelled: Sequence[LabelledReply]) -> dict[str, Any]:
    """How many of the labelled items (and their problems/conversations) the judge has seen."""
    from socratic.judge.labels.human import group_key, item_key

    seen = _seen_keys(judge)
    if seen is None:
        return {"items": 0, "groups": 0, "note": "the judge learned from no human labels"}
    keys, groups, verb = seen
    items = sum(item_key(i) in keys for i in labelled)
    shared_groups = sum(group_key(i) in groups for i in labelled)
    note = (f"{items} of {len(labelled)} labelled replies (and {shared_groups} from problems/conversations) "
            f"are in the data this judge {verb}")
    return {"items": items, "groups": shared_groups, "note": note}


def learns_from_labels(judge: Any) -> bool:
    """A judge `out_of_fold_judgments` can refit without a fold (learned, pairwise)."""
    from socratic.judge.learned.judge import LearnedJudge
    from socratic.judge.pairwise.judge import PairwiseJudge

    return isinstance(judge, LearnedJudge | PairwiseJudge)


def out_of_fold_judgments(judge: Any, labelled: Sequence[LabelledReply], k: int = DEFAULT_FOLDS,
                          progress: bool = False, extra: Sequence[tuple[int, Any, str]] = (),
                          ) -> tuple[list[Judgment], dict[str, Any]] | tuple[list[Judgment], dict[str, Any], list[Judgment]]:
    """Each labelled item judged by a model refitted without its fold's groups (learned and pairwise judges).
    `extra`: (labelled row, dialogue, reply) items judged by the refit of that row's fold (the dodge suite);
    when given, their judgments come third."""
    from socratic.judge.pairwise.judge import PairwiseJudge

    if isinstance(judge, PairwiseJudge):
        return _pairwise_out_of_fold(judge, labelled, k, progress, extra)
    judgments, held, fold_judges = _learned_out_of_fold(judge, labelled, k, progress)
    if not extra:
        return judgments, held
    return judgments, held, _judge_extra(fold_judges, labelled, k, extra, progress)


def _judge_extra(fold_judges: dict[int, Any], labelled: Sequence[LabelledReply], k: int,
                 extra: Sequence[tuple[int, Any, str]], progress: bool) -> list[Judgment]:
    from socratic.judge.labels.human import group_key

    out: list[Judgment | None] = [None] * len(extra)
    for fold, fold_judge in fold_judges.items():
        rows = [n for n, (row, _, _) in enumerate(extra) if fold_of(group_key(labelled[row]), k) == fold]
        for n, judgment in zip(rows, fold_judge.judge_many([extra[n][1:] for n in rows], progress=progress),
                               strict=True):
            out[n] = judgment
    return [j for j in out if j is not None]


def _pairwise_out_of_fold(judge: Any, labelled: Sequence[LabelledReply], k: int, progress: bool,
                          extra: Sequence[tuple[int, Any, str]]) -> Any:
    from socratic.errors import SocraticError
    from socratic.judge.labels.human import item_key, training_items
    from socratic.judge.pairwise import fit as pairwise_fit
    from socratic.judge.pairwise import judge as pairwise_judge
    from socratic.store.cache import NoCache

    train = training_items()
    if [item_key(i) for i in train] != judge.model.item_keys:
        raise SocraticError("cannot cross-validate the pairwise judge: its training data is not the shipped labels "
                            "any more; refit it with `socratic judge-train --reward --force`")
    data = pairwise_fit.training_data(train, judge.model.config)
    keys = np.array([item_key(i) for i in train] + [item_key(train[r]) for r, _, _ in data.dodges]
                    + [item_key(LabelledReply(dialogue=data.teacher_pairs[n].dialogue, reply=reply))
                       for n, _, reply in data.teacher])

    def refit(keep: np.ndarray) -> Any:
        model = pairwise_fit.fit(data, judge.model.config, np.flatnonzero(keep))
        return pairwise_judge.PairwiseJudge(cache=NoCache(), model=model, name=judge.spec)

    done, held, fold_judges = _by_fold(labelled, k, data.groups, keys, refit, progress)
    if not extra:
        return done, held
    return done, held, _judge_extra(fold_judges, labelled, k, extra, progress)


def _learned_out_of_fold(judge: Any, labelled: Sequence[LabelledReply], k: int,
                         progress: bool) -> tuple[list[Judgment], dict[str, Any], dict[int, Any]]:
    from socratic.judge.labels.human import group_key, item_key, training_items
    from socratic.judge.learned.features import featurize
    from socratic.judge.learned.fit import fit_items
    from socratic.judge.learned.judge import LearnedJudge
    from socratic.store.cache import NoCache

    assert isinstance(judge, LearnedJudge)
    train = training_items(judge.model_extra_files())
    if [item_key(i) for i in train] != judge.model.item_keys:
        from socratic.errors import SocraticError

        raise SocraticError("cannot cross-validate the learned judge: its training data is not the shipped "
                            "labels (+ the files it was trained with) any more; refit it with "
                            "`socratic judge-train --force`")
    X_train = featurize([(i.dialogue, i.reply) for i in train])

    def refit(keep: np.ndarray) -> Any:
        model = fit_items([i for i, kept in zip(train, keep, strict=True) if kept], judge.model.config,
                          X=X_train[keep])
        return LearnedJudge(cache=NoCache(), model=model, name=judge.spec)

    return _by_fold(labelled, k, np.array([group_key(i) for i in train]), np.array([item_key(i) for i in train]),
                    refit, progress)


def _by_fold(labelled: Sequence[LabelledReply], k: int, train_groups: np.ndarray, train_keys: np.ndarray,
             refit: Callable[[np.ndarray], Any],
             progress: bool) -> tuple[list[Judgment], dict[str, Any], dict[int, Any]]:
    """Each labelled item judged by `refit(keep)`, a judge fitted without the training rows of its fold's
    problems/conversations (and without the labelled items themselves): the judgments in order, what each
    fold trained on, and the fold judges (for extra items of the same folds)."""
    from socratic.judge.labels.human import group_key, item_key

    label_groups = [group_key(i) for i in labelled]
    folds = np.array([fold_of(g, k) for g in label_groups])
    judgments: list[Judgment | None] = [None] * len(labelled)
    held: dict[str, Any] = {"k": k, "folds": []}
    fold_judges = {}
    for fold in range(k):
        rows = np.flatnonzero(folds == fold)
        if not len(rows):
            continue
        out_groups = {label_groups[r] for r in rows}
        out_keys = {item_key(labelled[r]) for r in rows}
        keep = np.array([g not in out_groups and key not in out_keys for g, key in zip(train_groups, train_keys,
                                                                                        strict=True)])
        fold_judges[fold] = refit(keep)
        fresh = fold_judges[fold].judge_many([(labelled[r].dialogue, labelled[r].reply) for r in rows],
                                             progress=progress)
        for r, judgment in zip(rows, fresh, strict=True):
            judgments[r] = judgment
        held["folds"].append({"fold": fold, "scored": len(rows), "trained_on": int(keep.sum()),
                              "left_out_of_training": int((~keep).sum())})
    return [j for j in judgments if j is not None], held, fold_judges
