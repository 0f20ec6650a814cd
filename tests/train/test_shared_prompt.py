"""The shared-prompt forward (each pair in one row) against TRL's own fused forward, on a tiny random Llama.

Same per-token log-probs, entropies, mean logits and top-1 flags in TRL's layout, and the same
gradients, in fp32; batches that are not pairs in TRL's layout go to TRL's forward.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def tiny_llama(attn: str = "sdpa"):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         tie_word_embeddings=True, pad_token_id=0)
    config._attn_implementation = attn
    return LlamaForCausalLM(config).float()


def trl_batch(pairs):
    """TRL's collated DPO batch for (prompt, chosen, rejected) token lists."""
    from trl.trainer.dpo_trainer import DataCollatorForPreference

    collate = DataCollatorForPreference(pad_token_id=0)
    batch = collate([{"prompt_ids": p, "chosen_ids": c, "rejected_ids": r} for p, c, r in pairs])
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
    return batch, labels


PAIRS = [([5, 6, 7, 8, 9, 10, 11], [20, 21, 22], [30, 31]),
         ([12, 13, 14], [23, 24], [32, 33, 34, 35, 36]),
         ([15, 16, 17, 18, 19, 40, 41, 42, 43, 44], [25], [37, 38])]


def forward_both(attn: str = "sdpa", pairs=PAIRS):
    """(TRL's outputs, shared-prompt outputs, their gradients) on the same weights and batch."""
    from trl.trainer.utils import add_fused_lm_head

    from socratic.train.shared_prompt import share_prompts

    results = []
    for shared in (False, True):
        model = tiny_llama(attn)
        add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
        if shared:
            share_prompts(model)
        batch, labels = trl_batch(pairs)
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels,
                    fused_lm_head=True, use_cache=False)
        logps = out.log_probs.sum(dim=1)
        (logps * torch.arange(1, logps.numel() + 1)).sum().backward()  # weights: chosen and rejected differ
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        results.append((out, grads))
    return results


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_shared_prompt_matches_trl_forward_and_gradients(attn):
    (trl, trl_grads), (ours, our_grads) = forward_both(attn)
    assert ours.log_probs.shape == trl.log_probs.shape
    for field in ("log_probs", "entropy", "mean_logits"):
        torch.testing.assert_close(getattr(ours, field), getattr(trl, field), atol=1e-5, rtol=1e-5)
    assert torch.equal(ours.is_top1 & ours.label_mask, trl.is_top1 & trl.label_mask)
    assert torch.equal(ours.label_mask, trl.label_mask)
    assert set(our_grads) == set(trl_grads)
    for name, grad in trl_grads.items():
        torch.testing.assert_close(our_grads[name], grad, atol=1e-5, rtol=1e-4, msg=name)


def test_rejected_reply_does_not_see_the_chosen_one():
    """Changing the chosen reply leaves the rejected reply's log-probs exactly as they were."""
    changed = [(p, [c_ + 1 for c_ in c], r) for p, c, r in PAIRS]
    (_, _), (before, _) = forward_both(pairs=PAIRS)
    (_, _), (after, _) = forward_both(pairs=changed)
    half = len(PAIRS)
    torch.testing.assert_close(after.log_probs[half:], before.log_probs[half:], atol=1e-6, rtol=0)
    assert not torch.allclose(after.log_probs[:half], before.log_probs[:half])


def test_batches_that_are_not_pairs_go_to_trls_forward():
    from trl.trainer.utils import add_fused_lm_head

    from socratic.train.shared_prompt import pair_layout, share_prompts

    batch, labels = trl_batch(PAIRS)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert pair_layout(ids, mask, labels, {"input_ids": ids, "attention_mask": mask}) is not None
    other = ids.clone()
    other[len(PAIRS), 0] += 1  # the rejected row's prompt differs from the chosen row's
    assert pair_layout(other, mask, labels, {"input_ids": other, "attention_mask": mask}) is None
    assert pair_layout(ids[:3], mask[:3], labels[:3], {}) is None  # odd number of rows
    model = tiny_llama()
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    reference = model(input_ids=other, attention_mask=mask, labels=labels, fused_lm_head=True).log_probs
    share_prompts(model)
    share_prompts(model)  # twice is harmless
    fallback = model(input_ids=other, attention_mask=mask, labels=labels, fused_lm_head=True).log_probs
    torch.testing.assert_close(fallback, reference, atol=0, rtol=0)
    plain = model(input_ids=ids, attention_mask=mask)  # generation-style call: the original forward
    assert plain.logits.shape == (*ids.shape, 97)


def test_the_packed_path_runs_under_peft_lora(monkeypatch):
    """TRL calls the model through PEFT, which passes inputs_embeds=None and the like along."""
    from peft import LoraConfig, get_peft_model
    from trl.trainer.utils import add_fused_lm_head

    from socratic.train import shared_prompt

    calls = []
    packed = shared_prompt._packed_forward
    monkeypatch.setattr(shared_prompt, "_packed_forward", lambda *a: (calls.append(1), packed(*a))[1])
    model = tiny_llama()
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM"))
    expected = peft_model(**trl_inputs(), fused_lm_head=True).log_probs
    shared_prompt.share_prompts(peft_model.get_base_model())
    ours = peft_model(**trl_inputs(), fused_lm_head=True).log_probs
    assert calls == [1]
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)
    with peft_model.disable_adapter():  # the reference pass of a LoRA run
        peft_model(**trl_inputs(), fused_lm_head=True)
    assert calls == [1, 1]


def trl_inputs():
    batch, labels = trl_batch(PAIRS)
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "labels": labels,
            "use_cache": False}


def test_the_sft_forward_scores_only_the_labelled_positions_as_trls_does():
    from trl.trainer.utils import add_fused_lm_head

    from socratic.train.shared_prompt import SFT_OUTPUTS, score_replies_only

    ids = torch.tensor([[5, 6, 7, 8, 20, 21, 22, 0], [12, 13, 14, 15, 16, 17, 23, 24]])
    mask = torch.tensor([[1] * 7 + [0], [1] * 8])
    labels = ids.masked_fill(torch.tensor([[1] * 4 + [0] * 3 + [1], [1] * 6 + [0] * 2]).bool(), -100)
    results = []
    for ours in (False, True):
        model = tiny_llama()
        add_fused_lm_head(model, outputs=SFT_OUTPUTS)
        if ours:
            score_replies_only(model)
        out = model(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True, use_cache=False)
        out.loss.backward()
        results.append((out, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    (trl, trl_grads), (mine, my_grads) = results
    torch.testing.assert_close(mine.loss, trl.loss)
    assert torch.equal(mine.label_mask, trl.label_mask) and int(mine.label_mask.sum()) == 5
    for field in ("log_probs", "entropy"):
        torch.testing.assert_close(getattr(mine, field), getattr(trl, field), atol=1e-5, rtol=1e-5)
    assert torch.equal(mine.is_top1 & mine.label_mask, trl.is_top1 & trl.label_mask)
    assert set(my_grads) == set(trl_grads)
    for name, grad in trl_grads.items():
        torch.testing.assert_close(my_grads[name], grad, atol=1e-5, rtol=1e-4, msg=name)
