"""What a rating sheet holds: the blind items raters see, and the private key that unblinds them.

    sheet, key = blind_sheet(replies, evaluation="runs/x/eval", items=40, seed=0)
    sheet.items[0].replies[0].letter, .text      # what the rater sees: "A", "What do you ...?"
    key.source(1, "A")                           # what only the key knows: "tuned"

Pure: `blind_sheet` turns an evaluation's replies (socratic.evaluate.result.EvalReply) into a `Sheet`
and a `RatingKey`. An item is one test conversation (dataset, dialogue id); each reply source (every
model, and "teacher" where the evaluation has the teacher's turn) gives it one reply. The items are a
seeded sample; each item's replies are shuffled with a seed of their own (the export's seed and the
item), so an item's order does not depend on which other items were drawn, and are labelled A, B, C...
The sheet's id is a hash of everything a rater sees: a ratings file names it, so the import can tell
ratings of another sheet from ratings of this one.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from socratic.errors import SocraticError
from socratic.evaluate.result import EvalReply
from socratic.records import Turn
from socratic.store.artifact import Artifact
from socratic.store.cache import content_key

LETTERS = string.ascii_uppercase


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BlindReply(_Frozen):
    letter: str
    text: str


class BlindItem(_Frozen):
    """One conversation as the rater sees it: no dataset, no id, no model names."""

    item: int  # 1, 2, ... in the sheet's order
    context: str
    turns: tuple[Turn, ...]
    reference: str | None
    replies: tuple[BlindReply, ...]


class Sheet(_Frozen):
    """Everything the sheet shows, and nothing else."""

    id: str
    items: tuple[BlindItem, ...]


class KeyItem(_Frozen):
    item: int
    dataset: str
    dialogue_id: str
    letters: dict[str, str]  # letter -> reply source (a model name of the evaluation, or "teacher")
    replies: dict[str, str]  # letter -> reply_hash of the text the rater saw (a judgment of another text is not used)


class RatingKey(Artifact):
    """key.json: which source wrote each lettered reply. Raters must never see it (docs/rating.md)."""

    VERSION: ClassVar[int] = 1

    sheet: str  # the Sheet's id
    evaluation: str  # the evaluation folder the replies came from (its judgments are compared at import)
    seed: int
    sources: list[str]  # the reply sources, in the evaluation's order
    specs: dict[str, str]  # source -> its model spec
    items: list[KeyItem]
    left_out: int = 0  # items of the chosen test sets left out: not every chosen source replied to them

    def source(self, item: int, letter: str) -> str:
        return self.item(item).letters[letter]

    def item(self, item: int) -> KeyItem:
        return next(k for k in self.items if k.item == item)


def reply_hash(text: str) -> str:
    return content_key("rated-reply", text)[:16]


def sheet_id(items: Sequence[BlindItem]) -> str:
    return content_key("rating-sheet", [i.model_dump(mode="json") for i in items])[:16]


def _by_item(replies: Sequence[EvalReply]) -> dict[tuple[str, str], dict[str, EvalReply]]:
    grouped: dict[tuple[str, str], dict[str, EvalReply]] = {}
    for reply in replies:
        sources = grouped.setdefault((reply.dataset, reply.dialogue.id), {})
        if reply.model in sources:
            raise SocraticError(f"replies.jsonl holds two replies of {reply.model!r} to {reply.dataset} "
                                f"{reply.dialogue.id!r}: re-run `socratic evaluate` on the folder to compact it")
        sources[reply.model] = reply
    return grouped


def _choose(available: Sequence[str], wanted: Sequence[str] | None, what: str) -> list[str]:
    if not wanted:
        return list(available)
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise SocraticError(f"--{what} {unknown[0]!r} is not in the evaluation; it has: {', '.join(available)}")
    return list(dict.fromkeys(wanted))


def blind_sheet(replies: Sequence[EvalReply], *, evaluation: str, items: int | None = None, seed: int = 0,
                models: Sequence[str] | None = None, datasets: Sequence[str] | None = None) -> tuple[Sheet, RatingKey]:
    """The blind sheet and its key from an evaluation's replies (see the module docstring)."""
    sources = _choose(list(dict.fromkeys(r.model for r in replies)), models, "model")
    if len(sources) > len(LETTERS):
        raise SocraticError(f"{len(sources)} reply sources, more than a sheet has letters ({len(LETTERS)}): "
                            "choose some with --model")
    chosen_sets = _choose(list(dict.fromkeys(r.dataset for r in replies)), datasets, "dataset")
    grouped = _by_item([r for r in replies if r.model in sources and r.dataset in chosen_sets])
    # An item every chosen source answered: a source missing from an item cannot be compared on it.
    complete = [key for key, by_source in grouped.items() if all(s in by_source for s in sources)]
    if not complete:
        raise SocraticError(f"no item has a reply from every chosen source ({', '.join(sources)})")
    if items is not None and not 1 <= items <= len(complete):
        raise SocraticError(f"--items {items}: the evaluation has {len(complete)} items with a reply from "
                            f"every chosen source")
    drawn = random.Random(seed).sample(complete, items if items is not None else len(complete))
    blind, keyed = [], []
    for number, (dataset, dialogue_id) in enumerate(drawn, start=1):
        order = list(sources)
        random.Random(f"{seed}/{dataset}/{dialogue_id}").shuffle(order)
        by_source = grouped[(dataset, dialogue_id)]
        dialogue = by_source[order[0]].dialogue
        blind.append(BlindItem(item=number, context=dialogue.context, turns=dialogue.turns,
                               reference=dialogue.reference,
                               replies=tuple(BlindReply(letter=LETTERS[i], text=by_source[s].reply)
                                             for i, s in enumerate(order))))
        keyed.append(KeyItem(item=number, dataset=dataset, dialogue_id=dialogue_id,
                             letters={LETTERS[i]: s for i, s in enumerate(order)},
                             replies={LETTERS[i]: reply_hash(by_source[s].reply) for i, s in enumerate(order)}))
    specs = {r.model: r.spec for r in replies if r.model in sources}
    sheet = Sheet(id=sheet_id(blind), items=tuple(blind))
    key = RatingKey(sheet=sheet.id, evaluation=evaluation, seed=seed, sources=sources, specs=specs, items=keyed,
                    left_out=len(grouped) - len(complete))
    return sheet, key
