"""The transformers backend's decoding loop against `model.generate`, on a tiny random model (fast, CPU).

    .venv/bin/python -m pytest -q tests/backends/test_decode_loop.py

The loop drops a row from the batch (and its KV cache) as soon as it has finished; the tokens every
row gets must be those generate gives (float32), sampled rows keep their own random streams, and
streaming and cancellation still work row by row.
"""

from __future__ import annotations

import pytest
import torch

from socratic.backends.transformers_backend import TransformersBackend, _Row

PROMPTS = [[1, 30, 31, 32, 33, 34, 35], [1, 40, 41], [1, 50, 51, 52, 53]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from socratic.backends.embedded import embedded_model_dir

    folder = tmp_path_factory.mktemp("tiny")
    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=64, initializer_range=0.5,
                         tie_word_embeddings=True, eos_token_id=2, bos_token_id=1, pad_token_id=2)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return TransformersBackend(folder, spec="hf:tiny", dtype="float32", device="cpu")


def rows(limits, temperature=0.0, n=1):
    return [_Row(seed=100 + i, temperature=temperature, top_p=0.9 if temperature else 1.0, max_new_tokens=limit)
            for i, limit in enumerate(limits)]


def trimmed(padded: list[int], length: int, pad: int) -> list[int]:
    assert all(token == pad for token in padded[length:])  # generate only pads a finished row
    return padded[:length]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_loop_gives_generates_tokens_row_by_row(tiny, temperature):
    n = 2
    limits = [3, 9, 5, 12, 1, 7]  # rows finish at different steps: the batch shrinks under the loop
    ours = tiny._decode(PROMPTS, rows(limits, temperature), n)
    theirs = tiny._decode_generate(PROMPTS, rows(limits, temperature), n)
    assert [len(tokens) for tokens in ours] == limits
    pad = tiny.tokenizer.pad_token_id
    assert ours == [trimmed(padded, len(mine), pad) for padded, mine in zip(theirs, ours, strict=True)]
    if temperature:
        assert ours[0] != ours[1]  # the two samples of a prompt draw from their own streams


def test_finished_rows_leave_the_batch(tiny):
    sizes: list[int] = []
    hook = tiny.model.register_forward_pre_hook(lambda _m, _a, kw: sizes.append(kw["input_ids"].shape[0]),
                                                with_kwargs=True)
    try:
        tiny._decode(PROMPTS, rows([2, 6, 4]), 1)
    finally:
        hook.remove()
    # One forward per step; prefill calls run one prompt each (batch 1) before the loop.
    assert sizes[len(PROMPTS):] == [3, 3, 2, 2, 1, 1]


def test_end_token_and_turn_end_stop_a_row(tiny, monkeypatch):
    tokens = tiny._decode(PROMPTS[:1], rows([6]), 1)[0]
    # Make the third greedy token an end token: the row stops there, the end token kept (then skipped).
    monkeypatch.setattr(tiny, "eos_ids", [*tiny.eos_ids, tokens[2]])
    assert tiny._decode(PROMPTS[:1], rows([6]), 1)[0] == tokens[:3]
    stop_after = tiny.tokenizer.decode(tokens[:2], skip_special_tokens=True)
    monkeypatch.setattr(tiny, "eos_ids", [2])
    monkeypatch.setattr("socratic.backends.transformers_backend.turn_has_ended", lambda text: text == stop_after)
    assert tiny._decode(PROMPTS[:1], rows([6]), 1)[0] == tokens[:2]


def test_streaming_and_cancellation_per_row(tiny):
    from socratic.backends.decoding import RowStreamer

    pieces: dict[int, list] = {0: [], 1: []}
    streamer = RowStreamer(tiny.tokenizer, [*tiny.eos_ids, tiny.tokenizer.pad_token_id],
                           lambda row, piece: pieces[row].append(piece))
    counted = {0: 0}

    def cancelled(row: int) -> bool:  # row 0's reader leaves after its third token
        if row == 0:
            counted[0] += 1
        return row == 0 and counted[0] >= 3

    tokens = tiny._decode(PROMPTS[:2], rows([8, 8]), 1, streamer=streamer, cancelled=cancelled)
    assert [len(t) for t in tokens] == [3, 8]
    for row in (0, 1):
        assert pieces[row][-1] is None and pieces[row].count(None) == 1
        assert "".join(p for p in pieces[row] if p) == tiny.tokenizer.decode(tokens[row], skip_special_tokens=True)


def test_a_generation_config_with_a_penalty_keeps_generate(tiny, monkeypatch):
    monkeypatch.setattr(tiny.model.generation_config, "repetition_penalty", 1.3)
    assert tiny._needs_generate()
    called = []
    monkeypatch.setattr(tiny, "_decode_generate", lambda *a, **k: called.append(1) or [[]])
    tiny._decode(PROMPTS[:1], rows([4]), 1)
    assert called == [1]


def test_fill_places_moves_rows_from_the_end_into_finished_places():
    from socratic.backends.transformers_backend import fill_places

    assert fill_places(6, {1, 4}) == [0, 5, 2, 3]
    assert fill_places(4, {0, 1}) == [2, 3]
    assert fill_places(4, {3}) == [0, 1, 2]
    assert fill_places(3, {0}) == [2, 1]


@pytest.mark.parametrize("order", [[0, 5, 2, 3], [2, 3], [0, 1, 2], [3, 0, 1]])
def test_roomy_cache_selects_rows_like_a_dynamic_cache(order):
    from transformers import DynamicCache, LlamaConfig

    from socratic.backends.kv_cache import RoomyCache

    config = LlamaConfig(num_hidden_layers=2, hidden_size=16, num_attention_heads=2, num_key_value_heads=1,
                         intermediate_size=32, vocab_size=50)
    roomy, plain = RoomyCache(config, headroom=4), DynamicCache(config=config)
    generator = torch.Generator().manual_seed(0)

    def step(tokens: int, batch: int) -> None:
        for index in range(2):
            keys, values = (torch.randn(batch, 1, tokens, 8, generator=generator) for _ in range(2))
            got, want = roomy.update(keys, values, index), plain.update(keys, values, index)
            assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))

    step(5, batch=6)
    step(1, batch=6)
    roomy.batch_select_indices(torch.tensor(order)), plain.batch_select_indices(torch.tensor(order))
    step(1, batch=len(order))  # written into the room that is left, equal to the plain cache
    if all(source == place or source >= len(order) for place, source in enumerate(order)):
        layer = roomy.layers[0]
        assert layer.keys.data_ptr() == layer._room[0].data_ptr()  # a prefix of the same buffer, no new one
