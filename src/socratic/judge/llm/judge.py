"""The `llm:<backend spec>` judge: the paper's prompted judge, with real re-asks and no silent drops.

    judge = load_judge("llm:openai:gpt-4o")                       # or llm:openai:M@http://127.0.0.1:8000/v1
    judgments = judge.judge_many([(dialogue, reply), ...])

For each item the judge sends the packaged prompt (`prompts/judge_v1.md`: conversation, reference
answer when known, the reply inside <tutor_reply> tags) at temperature 0 with a seed, and a JSON
schema when the backend supports structured output. An answer that does not parse or validate is
sent back with the validation error in a NEW call ("ask again"), up to `max_tries` calls; a backend
exception also uses up one try. What still fails becomes a Judgment with `error` and `attempts`.
HTTP backends (`openai:`) are called from a thread pool of `concurrency` workers (their own retry
with backoff on 429/5xx/timeouts lives in OpenAIBackend); local backends get batched calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from string import Template

from socratic.backends import Backend, GenerationOptions, load_backend
from socratic.judge.base import Item, Judge, Outcome
from socratic.judge.llm.parse import JSON_SCHEMA, JudgmentParseError, parse_judgment
from socratic.records import Dialogue
from socratic.render import Message
from socratic.store.cache import Cache

PROMPT_VERSION = "judge_v1"
_OUR_TAGS = re.compile(r"<\s*(/?)\s*(tutor_reply|conversation|reference_answer)\b", re.IGNORECASE)
SPEAKER = {"student": "Student", "tutor": "Tutor"}
REASK = ("Your answer could not be used: {error}.\n"
         "Evaluate the same tutor reply again and answer with one JSON object only, with the keys "
         '"questions" (true/false), "on_topic" (1-5), "helpful" (1-5) and "reveal_answer" (true/false).')


@lru_cache(maxsize=4)
def load_template(version: str = PROMPT_VERSION) -> Template:
    text = resources.files("socratic.prompts").joinpath(f"{version}.md").read_text("utf-8")
    text = re.sub(r"\A\s*<!--.*?-->\s*", "", text, flags=re.DOTALL)  # the header comment is for maintainers
    return Template(text.strip())


def neutralise(text: str) -> str:
    """Defuse our delimiter tags inside quoted material, so a reply cannot close its own tag."""
    return _OUR_TAGS.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)


def format_conversation(dialogue: Dialogue) -> str:
    lines = []
    if dialogue.context.strip():
        lines.append(f"[What the student is working on]\n{dialogue.context.strip()}\n")
    lines += [f"{SPEAKER[turn.role]}: {turn.text.strip()}" for turn in dialogue.turns]
    return neutralise("\n".join(lines))


def judge_messages(dialogue: Dialogue, reply: str, version: str = PROMPT_VERSION) -> list[Message]:
    """The judge prompt for one item: a single user message built from the packaged template."""
    reference = ""
    if dialogue.reference and dialogue.reference.strip():
        reference = ("\n<reference_answer>\n" + neutralise(dialogue.reference.strip()) + "\n</reference_answer>\n"
                     "(The reference answer is for you only; the student has not seen it.)\n")
    text = load_template(version).substitute(conversation=format_conversation(dialogue),
                                             reference_block=reference, reply=neutralise(reply.strip()))
    return [{"role": "user", "content": text}]


class LLMJudge(Judge):
    def __init__(self, backend_spec: str, *, cache: Cache, max_tries: int = 3, concurrency: int = 4,
                 backend: Backend | None = None, batch_size: int = 8):
        super().__init__(cache)
        if max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        self.backend = backend if backend is not None else load_backend(backend_spec)
        self.spec = f"llm:{self.backend.spec}"
        self.version = PROMPT_VERSION
        self.max_tries = max_tries
        self.concurrency = max(1, concurrency)
        self.batch_size = batch_size
        # HTTP servers take parallel requests; a local model takes one batched call instead.
        self.remote = self.backend.spec.split(":", 1)[0] == "openai"
        self.options = GenerationOptions(max_new_tokens=200, temperature=0.0, greedy=True, seed=0,
                                         json_schema=JSON_SCHEMA if self.backend.supports_json_schema else None)

    @classmethod
    def from_spec(cls, spec: str, argument: str, *, cache: Cache, max_tries: int = 3, concurrency: int = 4) -> LLMJudge:
        """`llm:<model spec>`: the prompted judge on that model."""
        return cls(argument, cache=cache, max_tries=max_tries, concurrency=concurrency)

    def _call(self, conversations: list[list[Message]]) -> list[str | BaseException]:
        """One generation per conversation; a failure is returned in place, not raised."""
        try:
            answers = self.backend.generate(conversations, self.options)
            return [a[0] if a else "" for a in answers]
        except Exception as error:  # noqa: BLE001 - one bad call must not end the run
            if len(conversations) == 1:
                return [error]
            return [self._call([c])[0] for c in conversations]  # find which one fails

    def _score(self, items: Sequence[Item], done: Callable[[int, Outcome], None]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(items)
        if self.remote:
            # Each item with its own re-asks in its own task, `concurrency` in flight and a new one
            # starting as soon as any ends: no batch waits for its slowest request (measured in
            # bench_judge.py: 56% -> 86% of perfect packing at concurrency 8).
            pool = ThreadPoolExecutor(self.concurrency)
            try:
                for future in [pool.submit(self._score_chunk, items, range(i, i + 1), outcomes, done)
                               for i in range(len(items))]:
                    future.result()
            finally:  # on Ctrl-C, finish only the requests in flight, not the whole queue
                pool.shutdown(cancel_futures=True)
        else:
            for start in range(0, len(items), self.batch_size):
                self._score_chunk(items, range(start, min(start + self.batch_size, len(items))), outcomes, done)
        return outcomes  # type: ignore[return-value]

    def _score_chunk(self, items: Sequence[Item], positions: range, outcomes: list[Outcome | None],
                     done: Callable[[int, Outcome], None]) -> None:
        base = {i: judge_messages(*items[i], self.version) for i in positions}
        asking = dict(base)
        errors: dict[int, str] = {}
        for attempt in range(1, self.max_tries + 1):
            pending = list(asking)
            if not pending:
                return
            answers = self._call([asking[i] for i in pending])
            asking = {}
            for i, answer in zip(pending, answers, strict=True):
                if isinstance(answer, BaseException):
                    errors[i] = f"backend error: {type(answer).__name__}: {answer}"
                    asking[i] = base[i]  # the same request again
                else:
                    try:
                        outcomes[i] = Outcome(scores=parse_judgment(answer), attempts=attempt)
                        done(i, outcomes[i])  # type: ignore[arg-type]
                        continue
                    except JudgmentParseError as error:
                        errors[i] = f"invalid judgment: {error} (answer was {answer[:200]!r})"
                        # Ask again in a new call that shows the model its answer and what was wrong.
                        asking[i] = base[i] + [{"role": "assistant", "content": answer},
                                               {"role": "user", "content": REASK.format(error=error)}]
                if attempt == self.max_tries:
                    outcomes[i] = Outcome(error=f"{errors[i]} (after {attempt} tries)", attempts=attempt)
                    done(i, outcomes[i])  # type: ignore[arg-type]
