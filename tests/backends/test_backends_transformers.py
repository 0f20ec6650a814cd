"""The transformers backend on the real embedded SmolLM2 model (CPU, a few tokens per reply).

    .venv/bin/python -m pytest -q tests/backends/test_backends_transformers.py
"""

from __future__ import annotations

import json

import pytest

from socratic.backends import GenerationOptions, load_backend
from socratic.backends.cached import generate_cached
from socratic.backends.embedded import embedded_model_dir
from socratic.backends.transformers_backend import DEFAULT_BATCH_SIZE, TransformersBackend
from socratic.store.cache import Cache

pytestmark = pytest.mark.slow

SYSTEM = {"role": "system", "content": "You are a Socratic tutor. Answer with one guiding question."}
CONV_A = [SYSTEM, {"role": "user", "content": "How do I solve x^2-4=0?"}]
CONV_B = [SYSTEM, {"role": "user", "content": "I think 7 times 8 is 54. Is that right?"},
          {"role": "assistant", "content": "What is 7 times 7?"}, {"role": "user", "content": "49."}]


@pytest.fixture(scope="module")
def embedded():
    return load_backend("embedded")  # the default dtype: bf16 on CPUs with native bf16, else fp32


@pytest.fixture(scope="module")
def embedded_fp32():
    # Replies independent of batch-mates and padding hold in fp32; in bf16 the rounding differs with
    # the batch's shape, so only the same call (same conversations, batch size) repeats exactly.
    return TransformersBackend(embedded_model_dir(), spec="embedded", dtype="float32")


def test_embedded_generates_real_text(embedded):
    [[reply]] = embedded.generate([CONV_A], GenerationOptions(greedy=True, max_new_tokens=16))
    assert sum(c.isalpha() for c in reply) >= 10, reply
    assert "<|im_" not in reply and "assistant" not in reply[:12].lower()
    assert embedded.cache_id.startswith("embedded#") and len(embedded.cache_id) > len("embedded#")


def test_greedy_is_deterministic_and_matches_the_stream(embedded):
    options = GenerationOptions(greedy=True, max_new_tokens=12)
    first = embedded.generate([CONV_A, CONV_B], options)
    assert embedded.generate([CONV_A, CONV_B], options) == first
    [[alone]] = embedded.generate([CONV_A], options)
    pieces = list(embedded.stream(CONV_A, options))
    assert len(pieces) > 1
    assert "".join(pieces) == alone


def test_sampling_is_batched_and_seeded(embedded):
    options = GenerationOptions(n=3, seed=11, max_new_tokens=10, temperature=1.0, top_p=0.95)
    first = embedded.generate([CONV_A, CONV_B], options)
    assert [len(r) for r in first] == [3, 3]
    assert len(set(first[0])) > 1  # three different samples, not one copied thrice
    assert embedded.generate([CONV_A, CONV_B], options) == first
    other_seed = embedded.generate([CONV_A, CONV_B], options.model_copy(update={"seed": 12}))
    assert other_seed[0] != first[0]


def test_fp32_replies_do_not_depend_on_batch_mates_or_batch_size(embedded_fp32):
    greedy = GenerationOptions(greedy=True, max_new_tokens=10)
    both = embedded_fp32.generate([CONV_A, CONV_B], greedy)
    assert embedded_fp32.generate([CONV_B], greedy) == [both[1]]  # padding and batch-mate do not matter
    options = GenerationOptions(n=2, seed=5, max_new_tokens=8)
    whole = embedded_fp32.generate([CONV_A, CONV_B], options)
    assert embedded_fp32.generate([CONV_B], options) == [whole[1]]
    embedded_fp32.batch_size = 2  # one conversation (two samples) per batch
    try:
        assert embedded_fp32.generate([CONV_A, CONV_B], options) == whole
    finally:
        embedded_fp32.batch_size = DEFAULT_BATCH_SIZE


def test_fp32_batched_replies_equal_plain_transformers_generate(embedded_fp32):
    # Our path prefills each prompt alone, stacks the caches left-padded and decodes into a cache with
    # reserved room; transformers' own generate on one prompt must give the same greedy reply.
    import torch

    from socratic.backends import cut_at_turn_end

    ours = embedded_fp32.generate([CONV_A, CONV_B], GenerationOptions(greedy=True, max_new_tokens=12))
    for conversation, [reply] in zip([CONV_A, CONV_B], ours, strict=True):
        prompt = torch.tensor([embedded_fp32.prompt_ids(conversation)])
        with torch.inference_mode():
            output = embedded_fp32.model.generate(input_ids=prompt, max_new_tokens=12, do_sample=False,
                                                  eos_token_id=embedded_fp32.eos_ids,
                                                  pad_token_id=embedded_fp32.tokenizer.pad_token_id)
        plain = embedded_fp32.tokenizer.decode(output[0, prompt.shape[1]:], skip_special_tokens=True)
        assert reply == cut_at_turn_end(plain)


def test_generate_cached_reuses_replies(embedded, tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    options = GenerationOptions(n=2, seed=3, max_new_tokens=6)
    first = generate_cached(embedded, [CONV_A], options, cache)
    assert len(cache) == 1
    assert generate_cached(embedded, [CONV_A], options, cache) == first


def _save_lora(folder, seed):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(embedded_model_dir())
    # init_lora_weights=False: random A and B, so the adapter really changes the model
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                                                 init_lora_weights=False))
    peft_model.save_pretrained(folder)
    expected = peft_model.merge_and_unload().model.layers[0].self_attn.q_proj.weight.detach().clone()
    return expected


def test_adapter_folder_loads_base_plus_adapter_and_fingerprints_it(embedded, tmp_path):
    import torch

    folder = tmp_path / "adapter"
    expected = _save_lora(folder, seed=0)
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(embedded_model_dir())
    tuned = TransformersBackend(folder, spec=f"hf:{folder}", dtype="float32")
    merged = tuned.model.model.layers[0].self_attn.q_proj.weight
    assert torch.allclose(merged, expected, atol=1e-6)
    base = embedded.model.model.layers[0].self_attn.q_proj.weight.float()
    assert not torch.allclose(merged, base, atol=1e-2)
    [[reply]] = tuned.generate([CONV_A], GenerationOptions(greedy=True, max_new_tokens=4))
    assert isinstance(reply, str)
    first_id = tuned.cache_id
    assert first_id.startswith(f"hf:{folder}#")

    _save_lora(folder, seed=1)  # "retrained" into the same folder
    assert TransformersBackend(folder, spec=f"hf:{folder}", dtype="float32").cache_id != first_id


def test_dtype_is_auto_by_default_and_float32_on_request(embedded, embedded_fp32):
    from socratic.backends.transformers_backend import auto_dtype

    assert str(embedded.model.dtype) == f"torch.{auto_dtype('cpu')}"
    [[reply]] = embedded_fp32.generate([CONV_A], GenerationOptions(greedy=True, max_new_tokens=8))
    assert sum(c.isalpha() for c in reply) >= 5, reply
    assert str(embedded_fp32.model.dtype) == "torch.float32"
