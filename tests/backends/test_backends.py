"""Backends without a real model: spec parsing, turn-end cutting, streaming re-chunking, the generation cache.

    .venv/bin/python -m pytest -q tests/backends/test_backends.py
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from socratic.backends import (
    FakeBackend,
    GenerationOptions,
    cut_at_turn_end,
    load_backend,
    stream_until_turn_end,
    turn_has_ended,
)
from socratic.backends.cached import generate_cached, generation_key
from socratic.backends.transformers_backend import folder_fingerprint, is_adapter_folder, sample_seed
from socratic.errors import SocraticError
from socratic.specs import parse_model_spec as parse_spec
from socratic.store.cache import Cache

CONV_A = [{"role": "system", "content": "Be Socratic."}, {"role": "user", "content": "What is 2+2?"}]
CONV_B = [{"role": "system", "content": "Be Socratic."}, {"role": "user", "content": "Why is the sky blue?"}]


@pytest.mark.parametrize("text, expected", [
    ("What do you notice about 48?", "What do you notice about 48?"),
    ("Good start.\nStudent: so 72?", "Good start."),
    ("Good start.\n\n### User: so 72?", "Good start."),
    ("Teacher: What is 2 x 3?", "What is 2 x 3?"),
    ("Tutor: What is 2 x 3?\nStudent: 6", "What is 2 x 3?"),
    ("Try again.<|im_end|>\n<|im_start|>user\nok", "Try again."),
    ("A user: is someone who uses it.", "A user: is someone who uses it."),
    ("  spaced out  \n", "spaced out"),
])
def test_cut_at_turn_end(text, expected):
    assert cut_at_turn_end(text) == expected


@pytest.mark.parametrize("text, ended", [
    ("What do you think?", False),
    ("Teacher: What do you think?", False),
    ("What do you think?\nStudent:", True),
    ("Teacher: hi\nTeacher: again", True),
    ("ok<|im_end|>", True),
    ("What about the\nstudent's idea?", False),
])
def test_turn_has_ended(text, ended):
    assert turn_has_ended(text) is ended


@pytest.mark.parametrize("raw", [
    "What do you notice about the two numbers?",
    "Good.\nWhat comes next?\nStudent: I don't know",
    "Teacher: Look at line 3. What does it return?\nStudent: None",
    "Short.\nStud",
    "A list\n- first\n- second",
])
def test_stream_rechunking_joins_to_the_cut_reply(raw):
    # one character per piece is the hardest case for holding back partial speaker tags
    pieces = list(stream_until_turn_end(iter(raw)))
    assert "".join(pieces) == cut_at_turn_end(raw)
    assert all(pieces)


def test_stream_rechunking_streams_before_the_end():
    seen = []

    def source():
        for word in ["What ", "do ", "you ", "think ", "happens ", "when ", "x ", "is ", "zero?"]:
            seen.append(word)
            yield word

    first = next(stream_until_turn_end(source()))
    assert first and len(seen) < 9  # the first piece arrives before the model has finished


def test_stream_rechunking_stops_consuming_at_the_next_turn():
    consumed = []

    def source():
        for piece in ["Why?", "\nStudent:", " because", " of", " reasons"]:
            consumed.append(piece)
            yield piece

    assert "".join(stream_until_turn_end(source())) == "Why?"
    assert consumed == ["Why?", "\nStudent:"]


def test_parse_spec():
    assert parse_spec("embedded") == ("embedded", "")
    assert parse_spec("hf:/models/x") == ("hf", "/models/x")
    assert parse_spec("openai:gpt-4o@http://h:1/v1") == ("openai", "gpt-4o@http://h:1/v1")
    assert parse_spec("llamacpp:m.gguf") == ("llamacpp", "m.gguf")
    assert parse_spec("fake:hi") == ("fake", "hi")
    for bad in ("embedded:x", "hf:", "gpt-4o", "openai:"):
        with pytest.raises(SocraticError, match="unknown model spec"):
            parse_spec(bad)


def test_load_backend_returns_one_instance_per_spec():
    assert load_backend("fake:hello") is load_backend("fake:hello")
    assert load_backend("fake:hello").generate([CONV_A], GenerationOptions(n=2)) == [["hello", "hello"]]


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SocraticError, match="no model folder"):
        load_backend(f"hf:{tmp_path / 'nope'}")


def test_llamacpp_backend_without_the_library_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were not installed
    # The portable build script, not plain pip: pip's -march=native build crashes on AMX Xeons (issue 14).
    with pytest.raises(SocraticError, match=r"needs llama-cpp-python.*scripts/install-llamacpp\.sh"):
        load_backend(f"llamacpp:{tmp_path / 'm.gguf'}")


# -- generation cache -------------------------------------------------------------------------------


class Counting(FakeBackend):
    def __init__(self, cache_id="count#1"):
        super().__init__(responder=lambda messages, options: f"{messages[-1]['content']} ?")
        self.cache_id = cache_id
        self.batches: list[int] = []

    def generate(self, conversations, options):
        self.batches.append(len(conversations))
        return super().generate(conversations, options)


def test_cache_hit_makes_no_generate_call(tmp_path):
    cache, backend, options = Cache(tmp_path / "c.sqlite"), Counting(), GenerationOptions(n=2, seed=3)
    first = generate_cached(backend, [CONV_A, CONV_B], options, cache)
    assert first == [["What is 2+2? ?"] * 2, ["Why is the sky blue? ?"] * 2]
    assert backend.batches == [2]
    assert generate_cached(backend, [CONV_B, CONV_A], options, cache) == [first[1], first[0]]
    assert backend.batches == [2]  # all hits: no call at all


def test_cache_generates_only_the_misses_in_one_batch(tmp_path):
    cache, backend, options = Cache(tmp_path / "c.sqlite"), Counting(), GenerationOptions(seed=3)
    generate_cached(backend, [CONV_A], options, cache)
    conv_c = [*CONV_A[:1], {"role": "user", "content": "And 3+3?"}]
    result = generate_cached(backend, [CONV_A, CONV_B, conv_c, CONV_B], options, cache)
    assert backend.batches == [1, 2]  # CONV_B once, although asked twice
    assert [r[0] for r in result] == ["What is 2+2? ?", "Why is the sky blue? ?", "And 3+3? ?",
                                      "Why is the sky blue? ?"]


def test_cache_key_depends_on_model_content_messages_and_options():
    options = GenerationOptions(seed=1)
    base = generation_key(Counting("m#aaa"), CONV_A, options)
    assert base == generation_key(Counting("m#aaa"), CONV_A, GenerationOptions(seed=1))
    assert base != generation_key(Counting("m#bbb"), CONV_A, options)
    assert base != generation_key(Counting("m#aaa"), CONV_B, options)
    assert base != generation_key(Counting("m#aaa"), CONV_A, GenerationOptions(seed=2))
    assert base != generation_key(Counting("m#aaa"), CONV_A, GenerationOptions(seed=1, temperature=0.5))


def test_unseeded_sampling_bypasses_the_cache(tmp_path):
    cache, backend = Cache(tmp_path / "c.sqlite"), Counting()
    options = GenerationOptions(seed=None)
    generate_cached(backend, [CONV_A], options, cache)
    generate_cached(backend, [CONV_A], options, cache)
    assert backend.batches == [1, 1] and len(cache) == 0


# -- model-folder helpers ---------------------------------------------------------------------------


def test_folder_fingerprint_changes_with_the_weights(tmp_path):
    (tmp_path / "config.json").write_text('{"a": 1}')
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x" * 10)
    before = folder_fingerprint(tmp_path)
    assert folder_fingerprint(tmp_path) == before
    weights.write_bytes(b"y" * 11)
    assert folder_fingerprint(tmp_path) != before
    same_size = folder_fingerprint(tmp_path)
    later = time.time() + 5
    os.utime(weights, (later, later))  # retrained: same size, new mtime
    assert folder_fingerprint(tmp_path) != same_size
    changed_config = folder_fingerprint(tmp_path)
    (tmp_path / "config.json").write_text('{"a": 2}')
    assert folder_fingerprint(tmp_path) != changed_config


def test_adapter_folder_detection(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"")
    assert is_adapter_folder(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")  # a merged model with its adapter config beside it
    assert not is_adapter_folder(tmp_path)


@pytest.mark.parametrize("top_p", [1.0, 0.9, 0.3])
def test_row_sampler_draws_from_the_nucleus_distribution(top_p):
    import torch

    from socratic.backends.decoding import RowSampler

    scores = torch.randn(2, 600, generator=torch.Generator().manual_seed(0)) * 3
    sampler, counts = RowSampler([1, 2], [1.0, 1.0], [top_p, top_p]), torch.zeros(2, 600)
    for _ in range(4000):
        out = sampler(None, scores)
        assert bool((out == 0).sum(-1).eq(1).all())  # exactly one finite token per row
        counts.scatter_add_(1, out.argmax(-1, keepdim=True), torch.ones(2, 1))
    probs = torch.softmax(scores, -1)
    ranked, order = probs.sort(descending=True)
    ranked = ranked * ((ranked.cumsum(-1) - ranked) < top_p)
    expected = torch.zeros_like(probs).scatter_(1, order, ranked)
    expected /= expected.sum(-1, keepdim=True)
    assert bool(((counts > 0) <= (expected > 0)).all())  # never outside the nucleus
    assert (counts / 4000 - expected).abs().max().item() < 0.03


def test_row_sampler_rows_are_independent_streams():
    import torch

    from socratic.backends.decoding import RowSampler

    scores = torch.zeros(3, 50)
    together, alone = RowSampler([7, 8, 9], [1.0] * 3, [1.0] * 3), RowSampler([8], [1.0], [1.0])
    for _ in range(5):
        assert together(None, scores).argmax(-1)[1] == alone(None, scores[:1]).argmax(-1)[0]


def test_sample_seeds_depend_on_seed_conversation_and_index_only():
    assert sample_seed(0, CONV_A, 0) == sample_seed(0, [dict(m) for m in CONV_A], 0)
    seeds = {sample_seed(0, CONV_A, 0), sample_seed(1, CONV_A, 0), sample_seed(0, CONV_B, 0),
             sample_seed(0, CONV_A, 1)}
    assert len(seeds) == 4
    assert all(0 <= s < 2 ** 63 for s in seeds)


@pytest.mark.parametrize("top_p", [0.3, 0.9])
def test_row_sampler_finds_a_wide_nucleus(top_p):
    # A nearly flat distribution over 5000 tokens: the nucleus is ~1500 (second topk head) or ~4500
    # tokens (full sort). Samples must spread over it and never fall outside it.
    import torch

    from socratic.backends.decoding import RowSampler

    scores = -torch.arange(5000, dtype=torch.float32).unsqueeze(0) * 1e-4
    probs = torch.softmax(scores, -1)[0]
    size = int((probs.cumsum(-1) < top_p).sum()) + 1
    sampler = RowSampler([3], [1.0], [top_p])
    drawn = [int(sampler(None, scores).argmax()) for _ in range(400)]
    assert max(drawn) < size and max(drawn) > size * 0.8


def tiny_llama_config(layers: int = 2):
    from transformers import LlamaConfig

    return LlamaConfig(num_hidden_layers=layers, hidden_size=16, num_attention_heads=2, num_key_value_heads=1,
                       intermediate_size=32, vocab_size=50)


def test_roomy_cache_holds_what_a_dynamic_cache_holds_through_growth_crop_and_repeat():
    import torch
    from transformers import DynamicCache

    from socratic.backends.kv_cache import RoomyCache, RoomyLayer

    config = tiny_llama_config()
    roomy, plain = RoomyCache(config, headroom=3), DynamicCache(config=config)
    assert roomy.full_attention and all(isinstance(layer, RoomyLayer) for layer in roomy.layers)
    generator = torch.Generator().manual_seed(0)

    def step(tokens: int, batch: int = 2) -> None:
        for index in range(2):
            keys, values = (torch.randn(batch, 1, tokens, 8, generator=generator) for _ in range(2))
            got = roomy.update(keys, values, index)
            want = plain.update(keys, values, index)
            assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))

    step(5)            # a prefill: room reserved after it
    step(1)            # written into the room, no copy
    assert roomy.layers[0].keys.data_ptr() == roomy.layers[0]._room[0].data_ptr()
    step(1), step(1), step(1), step(1)  # past the headroom: one concatenation, fresh room
    roomy.crop(-2), plain.crop(-2)
    step(1)            # overwrites what the crop removed
    roomy.batch_repeat_interleave(3), plain.batch_repeat_interleave(3)
    step(1, batch=6)
    assert roomy.get_seq_length() == plain.get_seq_length() == 10


def test_roomy_cache_stacks_single_prompt_caches_left_padded():
    import torch
    from transformers import DynamicCache

    from socratic.backends.kv_cache import RoomyCache

    config = tiny_llama_config(layers=1)
    singles = []
    for length in (2, 4):
        single = DynamicCache(config=config)
        single.update(torch.ones(1, 1, length, 8) * length, torch.ones(1, 1, length, 8), 0)
        singles.append(single)
    stacked = RoomyCache(config, headroom=2)
    stacked.fill_left_padded(singles, width=4)
    keys = stacked.layers[0].keys
    assert keys.shape == (2, 1, 4, 8)
    assert keys[0, 0, :, 0].tolist() == [0, 0, 2, 2] and keys[1, 0, :, 0].tolist() == [4, 4, 4, 4]
    assert all(single.layers[0] is not None for single in singles)  # kept: the caller may hold them (prefixes)

    released = RoomyCache(config, headroom=2)
    released.fill_left_padded(singles, width=4, release=True)
    assert torch.equal(released.layers[0].keys, keys) and torch.equal(released.layers[0].values,
                                                                      stacked.layers[0].values)
    assert all(single.layers[0] is None for single in singles)  # each layer let go once stacked
