"""The Judge base class: cache lookups, ordering, progress and failure records around a scorer.

A concrete judge implements `_score(items, done)` for the items the cache does not already hold and
returns one `Outcome` per item (scores, or an error). `judge_many` keeps the input order, carries
each item's provenance into `Judgment.meta`, caches successes as they arrive (so an interrupted run
resumes where it stopped) and never caches failures (so a re-run retries them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from socratic.progress import progress_bar
from socratic.records import Dialogue
from socratic.scores import Judgment, Scores, judgment_summary
from socratic.store.cache import Cache, content_key

Item = tuple[Dialogue, str]
# The text detectors of socratic.signals (and the MiniLM embedding) the offline judges reuse:
# two judges that share them are not independent checks of each other (socratic.judge.shared_detectors).
RULE_DETECTORS = frozenset({"find_questions", "genuine_questions", "find_leaks", "quality_flags", "is_hint",
                            "is_verdict_only", "asks_only_for_material", "minilm_embedding"})


@dataclass
class Outcome:
    """What a scorer says about one item; `notes` explain the scores (kept in Judgment.meta)."""

    scores: Scores | None = None
    error: str | None = None
    attempts: int = 1
    notes: dict[str, Any] = field(default_factory=dict)

    def to_cache(self) -> dict[str, Any]:
        return {"scores": self.scores.model_dump() if self.scores else None, "attempts": self.attempts,
                "notes": self.notes}

    @classmethod
    def from_cache(cls, value: dict[str, Any]) -> Outcome:
        return cls(scores=Scores(**value["scores"]), attempts=value.get("attempts", 1),
                   notes=value.get("notes") or {})


class Judge(ABC):
    """Scores tutor replies on the four criteria. `spec` names it; `version` changes when its
    prompt or rubric changes, so cached judgments of an older version are not reused."""

    spec: str
    version: str
    detectors: frozenset[str] = frozenset()  # what it shares with other judges (see RULE_DETECTORS)

    def __init__(self, cache: Cache):
        self.cache = cache

    @classmethod
    def from_spec(cls, spec: str, argument: str, *, cache: Cache, max_tries: int = 3, concurrency: int = 4) -> Judge:
        """The judge `spec` names (`argument`: what follows 'kind:', or ''), as socratic.judge.load_judge
        builds it; `max_tries` and `concurrency` are the LLM judge's. A judge with nothing to load: itself."""
        return cls(cache=cache)

    def cache_key(self, dialogue: Dialogue, reply: str) -> str:
        return content_key("judgment", self.spec, self.version, dialogue.model_dump(mode="json"), reply)

    @abstractmethod
    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        """One Outcome per item, in order; call `done(i, outcome)` as soon as item i is finished."""

    def judge(self, dialogue: Dialogue, reply: str) -> Judgment:
        return self.judge_many([(dialogue, reply)], progress=False)[0]

    def judge_many(self, items: Sequence[Item], metas: Sequence[dict] | None = None,
                   progress: bool = True) -> list[Judgment]:
        """A Judgment per item, same order; failures are Judgments with `error`, never dropped."""
        items = list(items)
        if metas is not None and len(metas) != len(items):
            raise ValueError(f"{len(metas)} metas for {len(items)} items")
        keys = [self.cache_key(d, r) for d, r in items]
        outcomes: list[Outcome | None] = []
        for key in keys:
            hit = self.cache.get(key)
            outcomes.append(Outcome.from_cache(hit) if hit else None)
        todo = [i for i, o in enumerate(outcomes) if o is None]
        if todo:
            with _maybe_progress(progress, f"judging ({self.spec})", len(items), len(items) - len(todo)) as tick:
                def done(position: int, outcome: Outcome) -> None:
                    if outcome.scores is not None:
                        self.cache.put(keys[todo[position]], outcome.to_cache(), kind="judgment")
                    tick()

                fresh = self._score([items[i] for i in todo], done)
            for i, outcome in zip(todo, fresh, strict=True):
                outcomes[i] = outcome
        return [self._record(item, outcome, dict(metas[i]) if metas else {})
                for i, (item, outcome) in enumerate(zip(items, outcomes, strict=True))]

    def _record(self, item: Item, outcome: Outcome | None, meta: dict[str, Any]) -> Judgment:
        assert outcome is not None
        dialogue, reply = item
        if outcome.notes:
            meta["judge_notes"] = outcome.notes
        judgment = Judgment(dialogue=dialogue, reply=reply, judge=self.spec, scores=outcome.scores,
                            error=None if outcome.scores else (outcome.error or "no judgment"),
                            attempts=outcome.attempts, meta=meta)
        # The one summary (scores.judgment_summary): the pairwise judge's utility, a learned judge's expected summary,
        # else the formula over the scores; judges need not override this.
        return judgment.model_copy(update={"summary": judgment_summary(judgment)})


class _maybe_progress:
    """A rich progress bar (or nothing); yields a thread-safe `tick()`."""

    def __init__(self, show: bool, description: str, total: int, completed: int):
        self.show, self.description, self.total, self.completed = show, description, total, completed
        self.bar = None

    def __enter__(self) -> Callable[[], None]:
        if not self.show:
            return lambda: None
        self.bar = progress_bar()
        self.bar.__enter__()
        task = self.bar.add_task(self.description, total=self.total, completed=self.completed)
        return lambda: self.bar.advance(task)  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
