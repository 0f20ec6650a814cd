"""The one resumable reply loop: ask each model, in fixed batches, only for the replies a JSONL file lacks.

    done = read_done(path, EvalReply, key)
    filled = fill(path, [ModelWork(spec, cache, batches)], key=key, done=done, label="evaluation replies")

Candidate generation (preference.generate: k samples per dialogue), the evaluation replies and the pressure
test (evaluate.evaluation: greedy; push after push) are this loop; each stage says only what differs: what a
record is and its key, and per batch the steps (`Step`: the keys it yields, how its prompts are rendered,
how replies become records). The loop keeps the same promises for all three:
- Fixed batches (slices of the dataset order, `fixed_batches`, for the candidates; of each test set sorted
  by prompt length, `length_batches`, for the evaluation): a step asks for its whole batch through the shared
  cache (`generate_cached`), even when only one record of it is missing, so a resumed run asks the cache the
  same question as a run that never stopped, and a sampled batch's replies do not depend on where an earlier
  run stopped.
- A model is loaded only when one of its steps lacks a record (`fill(..., load=)`).
- Each new record is one fsynced line (`JsonlAppender`), in batch order; a record already in the file
  wins over a fresh one, so a resumed file equals an uninterrupted one line for line.
- In the end the file is rewritten in order with exactly this run's records (`compact`): records of
  other settings (another key) are dropped.
- A batch's steps run in order and a step's prompts may depend on the records of the batch's earlier
  steps (the pressure test: each push answers the previous reply); a batch finishes all its steps before
  the next one starts, so a backend that keeps prefills (`keep_prefixes`, backends.prefixes) holds one
  prompt per conversation of the batch.
- Remote backends (`openai:`) get several batches in flight (backends.inflight); records are still
  written in batch order, so the file is the same at any concurrency.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from socratic.backends import Backend, GenerationOptions, inflight, load_backend
from socratic.backends.cached import generate_cached
from socratic.backends.prefixes import reusing_prefixes
from socratic.errors import SocraticError
from socratic.progress import progress_bar
from socratic.render import Message
from socratic.store.cache import Cache
from socratic.store.jsonl import JsonlAppender, read_jsonl, write_jsonl

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
Key = Hashable


@dataclass(frozen=True)
class Ask:
    """One model call: a whole fixed batch of conversations, and the options they are answered with."""

    conversations: list[list[Message]]
    options: GenerationOptions


@dataclass(frozen=True)
class Step(Generic[R]):
    """One model call of a batch. Its records are known by key before anything is asked, so a step whose
    records are all in the file costs nothing."""

    keys: Sequence[Key]  # of the records the call yields, in the order `records` returns them
    size: int  # conversations asked: the progress bar's unit
    ask: Callable[[list[list[R]]], Ask]  # the records of the batch's earlier steps -> this call
    records: Callable[[Ask, list[list[str]]], list[R]]  # the call and its replies (n per conversation)


@dataclass(frozen=True)
class ModelWork(Generic[R]):
    """One model's share of a file: its fixed batches, each a sequence of steps, in file order."""

    spec: str
    cache: Cache  # the shared cache, or a view of it (evaluate keys a retrained folder's replies apart)
    batches: Sequence[Sequence[Step[R]]]
    order: Sequence[Key] | None = None  # the keys in the order the file lists them; default: the steps'

    def file_order(self) -> Iterable[Key]:
        return self.order if self.order is not None else (k for batch in self.batches for s in batch for k in s.keys)


@dataclass(frozen=True)
class Filled(Generic[R]):
    """What `fill` did: the file's records in order, the new ones, and the time it took without loading."""

    records: list[R]
    written: list[R]
    seconds: float
    backends: dict[str, Backend] = field(default_factory=dict)  # the models it loaded, by spec


def fixed_batches(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive slices of the dataset order; membership depends on position only, not on resume state."""
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def length_batches(items: Sequence[T], size: int, length: Callable[[T], int]) -> list[list[T]]:
    """Consecutive slices of the items sorted by `length` (equal lengths in the items' order): a batch of
    prompts of similar lengths carries little padding, which a local model would attend to at every decoded
    token. Membership depends on the items alone, not on resume state, as with `fixed_batches`."""
    return fixed_batches(sorted(items, key=length), size)


def read_done(path: Path, record: type[R], key: Callable[[R], Key]) -> dict[Key, R]:
    """Records of a previous (possibly interrupted) run, by key; a torn last line is dropped."""
    if not path.exists():
        return {}
    return {key(r): r for r in read_jsonl(path, record, tolerate_torn_tail=True)}


def fill(path: Path, models: Sequence[ModelWork[R]], *, key: Callable[[R], Key], done: dict[Key, R], label: str,
         concurrency: int = 1, requests_per_batch: int = 1, keep_prefixes: bool = False, compact: bool = True,
         after: Sequence[R] = (), on_start: Callable[[], None] | None = None,
         load: Callable[[str], Backend] = load_backend) -> Filled[R]:
    """Ask for every record of `models` that `done` (the file's records by key; updated here) lacks.

    `concurrency`: requests in flight to a remote backend, `requests_per_batch` of them per batch.
    `compact`: rewrite the file in order (plus `after`, records read from elsewhere) at the end;
    without it the file keeps what it had and only grows. `on_start` runs once, after the first model
    loads and before the first record is written. `load` turns a spec into a backend (the stage's own,
    so its tests can hand in a fake)."""
    written: list[R] = []
    backends: dict[str, Backend] = {}
    loading = 0.0
    started = time.perf_counter()
    missing = lambda batch: any(k not in done for step in batch for k in step.keys)
    size = lambda batches: sum(step.size for batch in batches for step in batch)
    with ExitStack() as files, progress_bar() as bar:
        task = bar.add_task(label, total=sum(size(m.batches) for m in models))
        appender: JsonlAppender | None = None
        for model in models:
            todo = [batch for batch in model.batches if missing(batch)]
            bar.advance(task, size(model.batches) - size(todo))
            if not todo:
                continue  # nothing missing: the model is not loaded
            loaded = time.perf_counter()
            backend = backends[model.spec] = load(model.spec)
            loading += time.perf_counter() - loaded
            if appender is None:
                if on_start is not None:
                    on_start()
                appender = files.enter_context(JsonlAppender(path))
            workers = 1
            if inflight.is_remote(backend):
                backend.limit_in_flight(concurrency)
                workers = inflight.batches_in_flight(concurrency, requests_per_batch)
            fetch = _fetcher(backend, model.cache, key, workers)
            # What the file holds of each batch, taken when the batch is handed out: the workers never read `done`.
            jobs = ((batch, {k: done[k] for step in batch for k in step.keys if k in done}) for batch in todo)
            with reusing_prefixes(backend) if keep_prefixes else nullcontext():
                for _, answered in inflight.ordered_map(fetch, jobs, workers):
                    for step, records in answered:
                        for record in records:
                            if key(record) not in done:
                                appender.write(record)
                                done[key(record)] = record
                                written.append(record)
                        bar.advance(task, step.size)
    ordered = [done[k] for model in models for k in model.file_order()] + list(after)
    if compact:
        write_jsonl(path, ordered)  # drop stale records of other settings, fix the order
    return Filled(ordered, written, time.perf_counter() - started - loading, backends)


def _fetcher(backend: Backend, cache: Cache, key: Callable[[R], Key], workers: int):
    """(batch, known records) -> the batch's steps with their records. Inline, lazily: each step is asked
    once the previous one is written, so it is durable before the next is asked. In flight, a worker
    answers all of a batch's steps at once, and their records follow in batch order."""
    answer = lambda job: _answers(backend, cache, key, *job)
    return answer if workers == 1 else lambda job: list(answer(job))


def _answers(backend: Backend, cache: Cache, key: Callable[[R], Key], batch: Sequence[Step[R]],
             known: dict[Key, R]) -> Iterator[tuple[Step[R], list[R]]]:
    """Each step of one batch with its records, asking the model only for a step that lacks one."""
    earlier: list[list[R]] = []
    for step in batch:
        if all(k in known for k in step.keys):
            records = [known[k] for k in step.keys]
        else:
            ask = step.ask(earlier)
            replies = generate_cached(backend, ask.conversations, ask.options, cache)
            if len(replies) != len(ask.conversations) or any(len(r) != ask.options.n for r in replies):
                raise SocraticError(f"model {backend.spec} returned {[len(r) for r in replies]} replies for "
                                    f"{len(ask.conversations)} conversations; expected {ask.options.n} each")
            fresh = step.records(ask, replies)
            if [key(r) for r in fresh] != list(step.keys):
                raise ValueError(f"a step's records do not match its keys: {[key(r) for r in fresh]}")
            records = [known.get(key(r), r) for r in fresh]
        earlier.append(records)
        yield step, records
