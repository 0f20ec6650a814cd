"""One forward pass per preference pair: the prompt once, the chosen and the rejected reply both after it.

TRL 1.16's DPOTrainer runs prompt+chosen and prompt+rejected as two rows of a batch, so the prompt
(~600 of ~640 tokens in this project's pairs) goes through the model twice, and on a CPU its fused
LM head scores every position, prompt included (it scores only the reply positions where Triton
runs). `share_prompts(model)` replaces the fused forward TRL installs on the model: each pair
becomes one row

    [prompt | chosen | rejected]        positions 0..p-1 | p..p+c-1 | p..p+r-1

with an attention mask in which the rejected tokens see the prompt and the earlier rejected tokens
but not the chosen ones, so every reply token gets the hidden state it would get in its own row.
Only the reply positions go through the LM head. The result is laid out as TRL's own forward lays
it out ([2B, L-1] per-token fields, zero outside the replies), so TRL's loss and metrics, the
reference pass (adapter disabled) and the reference precomputation all run unchanged on top.

Calls that are not a batch of pairs in TRL's layout (rows i and B+i sharing a prompt), and models
whose LM head scales or caps its logits, go to TRL's forward untouched.

The SFT warm-up has no pairs but the same waste: TRL's SFTTrainer scores every position of
[prompt | reply] on a CPU, ~15x the reply positions the loss uses. `score_replies_only(model)` makes
its fused forward take the LM head at the labelled positions only, as TRL itself does where Triton runs.
"""

from __future__ import annotations

import types
from typing import Any

import torch

# Per-token fields TRL's DPOTrainer asks its fused LM head for (trl/trainer/dpo_trainer.py, 1.16).
DPO_OUTPUTS = ("log_probs", "entropy", "mean_logits", "is_top1")
_LOGIT_SCALING = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                  "logits_scaling")
# Per-token fields TRL's SFTTrainer asks its fused LM head for (trl/trainer/sft_trainer.py, 1.16).
SFT_OUTPUTS = ("log_probs", "entropy", "is_top1")
_VOCAB_CHUNK = 32768  # vocabulary columns per LM-head tile (TRL's _CHUNKED_LOGPROB_CHUNK_SIZE)


def share_prompts(model: Any, outputs: tuple[str, ...] = DPO_OUTPUTS) -> None:
    """Make `model(..., labels=, fused_lm_head=True)` score each pair with its prompt computed once.

    `model` is the causal LM TRL patched with `add_fused_lm_head` (the base model under PEFT). Calling
    this twice is harmless.
    """
    if getattr(model, "_socratic_shared_prompt", False):
        return
    text_config = model.config.get_text_config()
    if any(getattr(text_config, name, None) is not None for name in _LOGIT_SCALING) or \
            model.config._attn_implementation not in ("sdpa", "eager"):
        return  # TRL's forward knows how to scale these logits; other attention kernels may not take our mask
    trl_forward = model.forward

    def forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None,
                **kwargs):
        pairs = None
        if fused_lm_head and not args and shift_labels is None and labels is not None:
            pairs = pair_layout(kwargs.get("input_ids"), kwargs.get("attention_mask"), labels, kwargs)
        if pairs is None:
            return trl_forward(*args, fused_lm_head=fused_lm_head, labels=labels, shift_labels=shift_labels,
                               num_items_in_batch=num_items_in_batch, **kwargs)
        return _packed_forward(self, pairs, labels, num_items_in_batch, outputs)

    model.forward = types.MethodType(forward, model)
    model._socratic_shared_prompt = True


class Pairs:
    """Where each pair's prompt, chosen and rejected tokens are, in TRL's [2B, L] layout."""

    def __init__(self, input_ids: torch.Tensor, prompt: list[int], chosen: list[int], rejected: list[int]):
        self.input_ids = input_ids
        self.prompt, self.chosen, self.rejected = prompt, chosen, rejected


def pair_layout(input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, labels: torch.Tensor,
                kwargs: dict[str, Any]) -> Pairs | None:
    """The pairs in a TRL DPO batch, or None when the batch is not one (then TRL's forward runs).

    TRL's layout: rows 0..B-1 are prompt+chosen, rows B..2B-1 prompt+rejected of the same pairs, right
    padded; labels are -100 outside the replies, and each reply directly follows its prompt.
    """
    if input_ids is None or attention_mask is None or attention_mask.dim() != 2 or input_ids.dim() != 2:
        return None
    # PEFT passes inputs_embeds=None, output_attentions=None, ... along; anything else set is not ours to drop.
    if {k for k, v in kwargs.items() if v is not None} - {"input_ids", "attention_mask", "use_cache"}:
        return None
    if input_ids.size(0) % 2:
        return None
    scored = labels != -100
    lengths = attention_mask.sum(dim=1)
    starts = torch.where(scored.any(dim=1), scored.int().argmax(dim=1), lengths)
    ends = lengths
    # The scored tokens must be one block from the reply's start to the row's end, and the row unpadded before it.
    span = torch.arange(labels.size(1), device=labels.device)
    block = (span >= starts[:, None]) & (span < ends[:, None])
    real = span < lengths[:, None]
    if not torch.equal(scored, block) or not torch.equal(attention_mask.bool(), real):
        return None
    half = input_ids.size(0) // 2
    prompt = starts[:half]
    if not torch.equal(prompt, starts[half:]) or bool((prompt < 1).any()):
        return None
    for i in range(half):
        p = int(prompt[i])
        if not torch.equal(input_ids[i, :p], input_ids[half + i, :p]):
            return None
    return Pairs(input_ids, prompt.tolist(), (ends[:half] - prompt).tolist(), (ends[half:] - prompt).tolist())


def _packed_forward(model: Any, pairs: Pairs, labels: torch.Tensor, num_items_in_batch: Any,
                    outputs: tuple[str, ...]) -> Any:
    from trl.kernels import ChunkedLogProbFunction

    ids, half = pairs.input_ids, len(pairs.prompt)
    device = ids.device
    width = max(p + c + r for p, c, r in zip(pairs.prompt, pairs.chosen, pairs.rejected))
    packed = torch.zeros((half, width), dtype=ids.dtype, device=device)  # padding: masked out below
    positions = torch.zeros((half, width), dtype=torch.long, device=device)
    segment = torch.full((half, width), -1, dtype=torch.long, device=device)  # 0 prompt, 1 chosen, 2 rejected
    rows, columns, sources = [], [], []  # where each reply token goes in TRL's layout, and which hidden state scores it
    for i, (p, c, r) in enumerate(zip(pairs.prompt, pairs.chosen, pairs.rejected)):
        packed[i, :p + c] = ids[i, :p + c]
        packed[i, p + c:p + c + r] = ids[half + i, p:p + r]
        positions[i, :p + c] = torch.arange(p + c, device=device)
        positions[i, p + c:p + c + r] = torch.arange(p, p + r, device=device)
        segment[i, :p], segment[i, p:p + c], segment[i, p + c:p + c + r] = 0, 1, 2
        # Token t of a row (t >= p) is predicted by the hidden state before it: for the rejected reply's
        # first token that is the prompt's last position, not the chosen reply's last one.
        for row, offset, n in ((i, 0, c), (half + i, c, r)):
            for t in range(p, p + n):
                rows.append(row)
                columns.append(t - 1)
                sources.append(i * width + (p - 1 if t == p else t - 1 + offset))
    causal = torch.ones((width, width), dtype=torch.bool, device=device).tril()
    visible = (segment[:, None, :] == 0) | (segment[:, None, :] == segment[:, :, None])
    mask = (causal & visible)[:, None]  # [B, 1, query, key]; a padding query sees the prompt (no empty row)
    if model.config._attn_implementation == "eager":  # adds the mask to the scores; sdpa takes it as booleans
        mask = torch.zeros(mask.shape, device=device).masked_fill(~mask, torch.finfo(torch.float32).min)
    hidden = model.base_model(input_ids=packed, attention_mask=mask, position_ids=positions, use_cache=False)
    hidden = hidden.last_hidden_state.reshape(half * width, -1)
    index = torch.tensor(sources, device=device)
    targets = labels[torch.tensor(rows, device=device), torch.tensor(columns, device=device) + 1]
    lm_head = model.get_output_embeddings()
    per_token = ChunkedLogProbFunction.apply(hidden[index].to(lm_head.weight.device), lm_head.weight, lm_head.bias,
                                             targets, 1.0, _VOCAB_CHUNK, None, 1.0, outputs)
    shape = (labels.size(0), labels.size(1) - 1)
    where = (torch.tensor(rows, device=device), torch.tensor(columns, device=device))
    fields = [None if x is None else x.new_zeros(shape).index_put(where, x) for x in per_token]
    return _fused_output(fields, labels[:, 1:] != -100, num_items_in_batch)


def _fused_output(fields: list[torch.Tensor | None], label_mask: torch.Tensor, num_items_in_batch: Any) -> Any:
    """TRL's FusedCausalLMOutput from the per-token fields in its layout (log_probs, entropy, log_sum_sq_probs,
    mean_logits, is_top1; zero outside the labelled positions): the loss is TRL's mean negative log-prob."""
    from trl.trainer.utils import FusedCausalLMOutput

    log_probs, entropy, log_sum_sq_probs, mean_logits, is_top1 = fields
    count = label_mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(loss=-log_probs.sum() / count, log_probs=log_probs, entropy=entropy,
                               log_sum_sq_probs=log_sum_sq_probs, mean_logits=mean_logits, is_top1=is_top1,
                               label_mask=label_mask)


def score_replies_only(model: Any, outputs: tuple[str, ...] = SFT_OUTPUTS) -> None:
    """Make `model(..., labels=, fused_lm_head=True)` take the LM head at the labelled positions only.

    `model` is the causal LM TRL patched with `add_fused_lm_head` (the base model under PEFT). The result
    is TRL's: per-token fields in [B, L-1], zero where the label is -100. Calling this twice is harmless.
    """
    if getattr(model, "_socratic_replies_only", False):
        return
    if any(getattr(model.config.get_text_config(), name, None) is not None for name in _LOGIT_SCALING):
        return  # TRL's forward knows how to scale these logits
    trl_forward = model.forward

    def forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None,
                **kwargs):
        if not fused_lm_head or args or shift_labels is not None or labels is None:
            return trl_forward(*args, fused_lm_head=fused_lm_head, labels=labels, shift_labels=shift_labels,
                               num_items_in_batch=num_items_in_batch, **kwargs)
        return _labelled_forward(self, labels, num_items_in_batch, outputs, kwargs)

    model.forward = types.MethodType(forward, model)
    model._socratic_replies_only = True


def _labelled_forward(model: Any, labels: torch.Tensor, num_items_in_batch: Any, outputs: tuple[str, ...],
                      inputs: dict[str, Any]) -> Any:
    from trl.kernels import ChunkedLogProbFunction

    hidden = model.base_model(**{**inputs, "use_cache": False}).last_hidden_state[:, :-1]
    targets = labels[:, 1:]
    label_mask = targets != -100
    lm_head = model.get_output_embeddings()
    per_token = ChunkedLogProbFunction.apply(hidden[label_mask].to(lm_head.weight.device), lm_head.weight,
                                             lm_head.bias, targets[label_mask], 1.0, _VOCAB_CHUNK, None, 1.0, outputs)
    # masked_scatter keeps the result connected to the model even when no label is valid (TRL does the same).
    fields = [None if x is None else x.new_zeros(label_mask.shape).masked_scatter(label_mask, x) for x in per_token]
    return _fused_output(fields, label_mask, num_items_in_batch)
