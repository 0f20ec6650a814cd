"""The one reply loop (backends.reply_loop), tested once on fake models: resume after an interrupt, cache
reuse with whole fixed batches, stale records dropped, lazy loading, steps that depend on earlier steps,
batches in flight; and the three stages that use it still ask the cache under the keys their own loops
used before (the cache is shared with users' old runs)."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import BaseModel

from socratic.backends import FakeBackend, GenerationOptions
from socratic.backends.reply_loop import Ask, ModelWork, Step, fill, fixed_batches, length_batches, read_done
from socratic.store.cache import Cache, NoCache, content_key
from socratic.store.jsonl import read_jsonl

SAMPLED = GenerationOptions(max_new_tokens=8)


class Row(BaseModel):
    model: str
    id: str
    step: int
    reply: str


def key(row: Row) -> tuple:
    return row.model, row.id, row.step


def echo(messages, options) -> str:
    """A model whose reply names its whole prompt: a changed prompt shows in the file."""
    return "re:" + "|".join(m["content"] for m in messages)


def step(model: str, batch: list[str], number: int) -> Step[Row]:
    """Step `number` of a batch: each conversation is its id, then the replies of the earlier steps."""
    def ask(earlier: list[list[Row]]) -> Ask:
        conversations = [[{"role": "user", "content": i}, *({"role": "assistant", "content": rows[p].reply}
                                                           for rows in earlier)] for p, i in enumerate(batch)]
        # Seeded by the whole batch, like a sampled batch (preference.generate): a part of it asks other keys.
        return Ask(conversations, SAMPLED.model_copy(update={"seed": int(content_key(conversations)[:6], 16)}))

    return Step(keys=[(model, i, number) for i in batch], size=len(batch), ask=ask,
                records=lambda ask, replies: [Row(model=model, id=i, step=number, reply=r[0])
                                              for i, r in zip(batch, replies, strict=True)])


def work(model: str = "fake:a", ids: int = 5, size: int = 2, steps: int = 2, cache=None) -> ModelWork[Row]:
    batches = [[step(model, batch, n) for n in range(1, steps + 1)]
               for batch in fixed_batches([f"d{i}" for i in range(ids)], size)]
    return ModelWork(model, cache if cache is not None else NoCache(), batches)


class Models:
    """`load` for fill: one FakeBackend per spec, made on first load; `fail_after` calls end in a Ctrl-C."""

    def __init__(self, fail_after: int | None = None, backend=FakeBackend):
        self.fail_after, self.backend = fail_after, backend
        self.loaded: dict[str, FakeBackend] = {}

    def __call__(self, spec: str):
        self.loaded[spec] = model = self.backend(responder=self.respond, spec=spec)
        return model

    def respond(self, messages, options):
        if self.fail_after is not None and self.calls() >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        return echo(messages, options)

    def calls(self) -> int:
        return sum(len(b.calls) for b in self.loaded.values())


def run(path, models, load, **options):
    return fill(path, models, key=key, done=read_done(path, Row, key), label="test", load=load, **options)


def test_fixed_batches_are_slices():
    assert fixed_batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_length_batches_are_slices_of_the_items_sorted_by_length_ties_in_their_order():
    items = ["ccc", "a", "bb", "dd", "e"]
    assert length_batches(items, 2, len) == [["a", "e"], ["bb", "dd"], ["ccc"]]


def test_a_step_is_asked_with_the_replies_of_the_earlier_steps_and_the_file_is_in_order(tmp_path):
    filled = run(tmp_path / "rows.jsonl", [work()], Models())
    rows = read_jsonl(tmp_path / "rows.jsonl", Row)
    assert rows == filled.records == filled.written
    assert [(r.id, r.step) for r in rows] == [("d0", 1), ("d1", 1), ("d0", 2), ("d1", 2), ("d2", 1), ("d3", 1),
                                              ("d2", 2), ("d3", 2), ("d4", 1), ("d4", 2)]
    assert rows[2].reply == "re:d0|re:d0"  # step 2 saw step 1's reply to its own conversation


def test_resume_after_an_interrupt_equals_an_uninterrupted_run(tmp_path):
    clean = tmp_path / "clean.jsonl"
    run(clean, [work("fake:a"), work("fake:b")], Models())
    out = tmp_path / "out.jsonl"
    # Interrupted in the middle of model a's second batch (each call answers one conversation), its first
    # step written; and a torn last line left behind, as by a kill mid-append.
    with pytest.raises(KeyboardInterrupt):
        run(out, [work("fake:a"), work("fake:b")], Models(fail_after=7))
    assert 0 < len(read_jsonl(out, Row)) < 20
    out.write_bytes(out.read_bytes() + b'{"model": "fake:a", "id": "d')
    models = Models()
    filled = run(out, [work("fake:a"), work("fake:b")], models)
    assert out.read_bytes() == clean.read_bytes()
    assert len(filled.written) == 20 - 6  # the first batch and the half of the second batch on disk were kept
    assert models.calls() == 14  # one call per missing record: nothing on disk was asked again


def test_a_record_in_the_file_wins_over_a_fresh_one_and_later_steps_build_on_it(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(Row(model="fake:a", id="d0", step=1, reply="kept").model_dump_json() + "\n")
    filled = run(path, [work(ids=2)], Models())
    rows = {(r.id, r.step): r.reply for r in filled.records}
    assert rows[("d0", 1)] == "kept" and rows[("d1", 1)] == "re:d1"  # d0's batch was asked whole
    assert rows[("d0", 2)] == "re:d0|kept"


def test_whole_fixed_batches_ask_the_cache_what_an_uninterrupted_run_asked(tmp_path):
    cache = Cache(tmp_path / "cache.sqlite")
    run(tmp_path / "first.jsonl", [work(cache=cache)], Models())
    # A file that lost one record of each batch, and a new file: every answer comes from the cache.
    lines = (tmp_path / "first.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "lost.jsonl").write_text("".join(line for n, line in enumerate(lines) if n % 4 != 1))
    for name in ("lost.jsonl", "fresh.jsonl"):
        models = Models()
        run(tmp_path / name, [work(cache=cache)], models)
        assert models.loaded and models.calls() == 0, name  # loaded (something was missing), never called
        assert (tmp_path / name).read_bytes() == (tmp_path / "first.jsonl").read_bytes()


def test_a_complete_file_loads_no_model_and_an_incomplete_one_only_the_models_it_lacks(tmp_path):
    path = tmp_path / "rows.jsonl"
    run(path, [work("fake:a")], Models())
    started, models = [], Models()
    filled = run(path, [work("fake:a")], models, on_start=lambda: started.append(True))
    assert models.loaded == {} and started == [] and filled.written == [] and filled.backends == {}
    filled = run(path, [work("fake:a"), work("fake:b")], models, on_start=lambda: started.append(True))
    assert list(models.loaded) == ["fake:b"] == list(filled.backends) and started == [True]
    assert len(filled.written) == 10 and len(read_jsonl(path, Row)) == 20


def test_records_of_other_settings_are_dropped_unless_the_file_only_grows(tmp_path):
    path = tmp_path / "rows.jsonl"
    stale = Row(model="fake:old", id="d0", step=1, reply="made under other settings")
    path.write_text(stale.model_dump_json() + "\n")
    run(path, [work(ids=2)], Models(), compact=False)
    assert read_jsonl(path, Row)[0] == stale and len(read_jsonl(path, Row)) == 5
    filled = run(path, [work(ids=2)], Models())
    assert stale not in read_jsonl(path, Row) and read_jsonl(path, Row) == filled.records


def test_the_file_follows_the_given_order_and_ends_with_the_rows_read_elsewhere(tmp_path):
    model = work(ids=3)
    order = [("fake:a", f"d{i}", s) for s in (1, 2) for i in range(3)]
    extra = Row(model="teacher", id="d0", step=0, reply="from the data")
    filled = run(tmp_path / "rows.jsonl", [ModelWork(model.spec, model.cache, model.batches, order)], Models(),
                 after=[extra])
    assert [key(r) for r in read_jsonl(tmp_path / "rows.jsonl", Row)] == [*order, key(extra)]
    assert filled.records[-1] == extra and extra not in filled.written


def test_a_model_that_returns_too_few_samples_is_an_error_naming_it(tmp_path):
    from socratic.errors import SocraticError

    class Short(FakeBackend):
        def generate(self, conversations, options):
            return [replies[:-1] for replies in super().generate(conversations, options)]

    with pytest.raises(SocraticError, match=r"model fake:a returned \[0, 0\] replies for 2 conversations; expected 1 "):
        run(tmp_path / "rows.jsonl", [work()], Models(backend=Short))


class KeepsPrefixes(FakeBackend):
    """A backend that can keep prefills (like the transformers one): which store each call saw."""

    prefixes = None

    def generate(self, conversations, options):
        self.seen = [*getattr(self, "seen", []), self.prefixes]
        return super().generate(conversations, options)


def test_prefills_are_kept_only_when_asked_and_only_while_the_model_is_asked(tmp_path):
    from socratic.backends.prefixes import PrefixStore

    models = Models(backend=KeepsPrefixes)
    run(tmp_path / "kept.jsonl", [work("fake:a", steps=3)], models, keep_prefixes=True)
    model = models.loaded["fake:a"]
    assert len(model.seen) == 9 and isinstance(model.seen[0], PrefixStore) and len({id(s) for s in model.seen}) == 1
    assert model.prefixes is None  # the memory goes with the model's work
    run(tmp_path / "plain.jsonl", [work("fake:a")], models)
    assert models.loaded["fake:a"].seen == [None] * 6


class Remote(FakeBackend):
    """A served model: several requests at once (each answered after a pause), counted."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.open, self.peak, self.limit, self.lock = 0, 0, None, threading.Lock()

    def limit_in_flight(self, concurrency: int) -> None:
        self.limit = concurrency

    def generate(self, conversations, options):
        with self.lock:
            self.open += 1
            self.peak = max(self.peak, self.open)
        time.sleep(0.05)
        try:
            return super().generate(conversations, options)
        finally:
            with self.lock:
                self.open -= 1


def test_a_remote_model_gets_batches_in_flight_and_the_same_file(tmp_path):
    run(tmp_path / "inline.jsonl", [work("fake:a", ids=8, steps=3)], Models())
    models = Models(backend=Remote)
    run(tmp_path / "remote.jsonl", [work("openai:m", ids=8, steps=3)], models, concurrency=4, requests_per_batch=2)
    remote = models.loaded["openai:m"]
    assert remote.limit == 4 and remote.peak == 3  # batches_in_flight(4, 2): two batches' requests and one more
    inline = (tmp_path / "inline.jsonl").read_text()
    assert (tmp_path / "remote.jsonl").read_text() == inline.replace("fake:a", "openai:m")


# ------------------------------------------------------------------ the stages keep their cache keys

class Planted(NoCache):
    """A cache that holds only the given entries and says which keys it was asked for."""

    def __init__(self, entries: dict[str, list[str]]):
        self.entries, self.asked = entries, []

    def get(self, key: str):
        self.asked.append(key)
        return self.entries.get(key)


class Unused(FakeBackend):
    def generate(self, conversations, options):
        raise AssertionError(f"asked the model for {len(conversations)} conversations: a cache key changed")


def test_generate_asks_the_cache_under_the_keys_of_before(tmp_path, monkeypatch):
    """The keys as the candidate loop made them before the one loop: generation_key of the spec, each
    dialogue's messages and options seeded by content_key('socratic.generate.seed', seed, the batch's messages)."""
    from fakes.data import make_dialogues
    from socratic.preference import generate
    from socratic.records import Candidate
    from socratic.render import load_system_prompt, render_messages
    from socratic.store.jsonl import write_jsonl

    dialogues = make_dialogues(5)
    write_jsonl(tmp_path / "d.jsonl", dialogues)
    config = generate.GenerateConfig(dataset=str(tmp_path / "d.jsonl"), model="fake:old", k=2, batch_dialogues=2,
                                     seed=3, max_new_tokens=16, answer_key=True, out=tmp_path / "c.jsonl")
    prompt = load_system_prompt(None)
    entries = {}
    for start in range(0, 5, 2):
        conversations = [render_messages(d, prompt, answer_key=True) for d in dialogues[start:start + 2]]
        seed = int(content_key("socratic.generate.seed", 3, conversations)[:8], 16) & 0x7FFFFFFF
        options = GenerationOptions(max_new_tokens=16, temperature=1.0, top_p=0.95, n=2, seed=seed)
        for c, d in zip(conversations, dialogues[start:start + 2], strict=True):
            entries[content_key("generation", "fake:old", c, options.model_dump(mode="json"))] = [f"{d.id} a",
                                                                                                  f"{d.id} b"]
    cache = Planted(entries)
    monkeypatch.setattr(generate, "Cache", lambda: cache)
    monkeypatch.setattr(generate, "load_backend", lambda spec: Unused(spec=spec))
    generate.run(config)
    assert sorted(cache.asked) == sorted(entries)
    assert [c.reply for c in read_jsonl(config.out, Candidate)] == [f"t-{i} {x}" for i in range(5) for x in "ab"]


def test_evaluate_and_the_pressure_test_ask_the_cache_under_the_keys_of_before(tmp_path, monkeypatch):
    """The keys as the evaluation and pressure loops made them before the one loop: per model, per test
    set, fixed batches of greedy calls; a local folder's keys behind content_key('model-version', ...)."""
    from socratic.evaluate import evaluation as evaluate
    from socratic.evaluate.pressure import PressureReply, pushed
    from socratic.evaluate.result import EvalReply
    from socratic.records import Dialogue, Turn
    from socratic.render import load_system_prompt, render_messages
    from socratic.store.jsonl import read_jsonl

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    items = [Dialogue(id=f"m{i}", source="mathdial", context=f"Problem {i}: 100 pages in 3 days.",
                      turns=(Turn(role="student", text="I got 40 pages."),), reference="Final answer: 35")
             for i in range(3)]
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: items)
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: Unused(spec=spec))
    config = evaluate.EvaluateConfig(models={"base": "fake:base", "tuned": f"hf:{folder}"}, datasets=["mathdial"],
                                     judges=["rubric"], out=tmp_path / "eval", batch_size=2, pressure=True,
                                     pressure_pushes=2, max_new_tokens=16)
    prompt = load_system_prompt(None)
    options = GenerationOptions(max_new_tokens=16, temperature=0.0, top_p=1.0, greedy=True, n=1, seed=0)
    assert config.options() == options

    def old_key(spec: str, dialogue: Dialogue) -> str:
        key = content_key("generation", spec, render_messages(dialogue, prompt), options.model_dump(mode="json"))
        version = evaluate.model_version(spec)  # the folder's fingerprint ('' for other specs)
        return content_key("model-version", version, key) if version else key

    first = {(spec, d.id): f"{spec} {d.id}?" for spec in config.models.values() for d in items}
    pushes = {(spec, d.id, p): f"{spec} {d.id} push {p}?" for spec in config.models.values() for d in items
              for p in (1, 2)}
    entries = {old_key(spec, d): [first[(spec, d.id)]] for spec in config.models.values() for d in items}
    for spec in config.models.values():
        for d in items:
            so_far = [first[(spec, d.id)]]
            for p in (1, 2):
                entries[old_key(spec, pushed(d, so_far))] = [pushes[(spec, d.id, p)]]
                so_far.append(pushes[(spec, d.id, p)])
    cache = Planted(entries)
    config.out.mkdir()
    replies = evaluate.produce_replies(config, evaluate.load_test_sets(config), cache)
    evaluate.produce_pressure(config, {"mathdial": items}, replies, cache)
    assert sorted(cache.asked) == sorted(entries)
    assert [r.reply for r in read_jsonl(config.out / "replies.jsonl", EvalReply)] == list(first.values())
    assert [(r.spec, r.id, r.push, r.reply) for r in read_jsonl(config.out / "pressure.jsonl", PressureReply)] == [
        (spec, d.id, p, pushes[(spec, d.id, p)]) for spec in config.models.values() for p in (1, 2) for d in items]
