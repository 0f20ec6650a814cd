"""Row-wise pieces of batched decoding with transformers: a sampler, stopping criteria and a streamer.

Every row of a batch may belong to another request, so each carries its own seed, temperature,
top-p, token limit and cancellation, and streams its own text:

    sampler = RowSampler(seeds=[1, 2], temperatures=[0.7, 0.0], top_ps=[0.95, 1.0])   # row 2 is greedy
    stop = RowStop(limits=[64, 16], cancelled=lambda row: False)
    streamer = RowStreamer(tokenizer, end_ids=[2], emit=lambda row, piece: ...)          # piece None = row ended
    model.generate(..., logits_processor=[sampler], stopping_criteria=[TurnEnd(tokenizer), stop],
                   streamer=streamer, do_sample=False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from transformers import LogitsProcessor, StoppingCriteria
from transformers.generation.streamers import BaseStreamer

from socratic.backends.base import turn_has_ended

NUCLEUS_HEADS = (256, 2048)  # topk sizes tried before sorting the whole vocabulary


class RowSampler(LogitsProcessor):
    """Temperature + top-p sampling with one generator per row, so each sample has its own random stream.

    Used as a logits processor under greedy decoding: it leaves only the sampled token finite. A row
    with temperature 0 takes the most likely token.
    """

    def __init__(self, seeds: Sequence[int], temperatures: Sequence[float], top_ps: Sequence[float]):
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.temperatures = torch.tensor(temperatures, dtype=torch.float32).unsqueeze(-1)
        self.top_ps = torch.tensor(top_ps, dtype=torch.float32).unsqueeze(-1)
        self.greedy = self.temperatures.squeeze(-1) == 0

    def keep(self, indices: Sequence[int]) -> None:
        """Go on with the rows at `indices` only (the others have finished); each keeps its own stream."""
        self.generators = [self.generators[i] for i in indices]
        self.temperatures, self.top_ps = self.temperatures[list(indices)], self.top_ps[list(indices)]
        self.greedy = self.temperatures.squeeze(-1) == 0

    def __call__(self, input_ids, scores):
        temperatures = self.temperatures.to(scores.device).clamp(min=1e-5)  # greedy rows are set below
        top_ps = self.top_ps.to(scores.device)
        probs = torch.softmax(scores.float() / temperatures, dim=-1)
        if bool((top_ps < 1.0).any()):
            # The nucleus usually lies within the top few hundred tokens: sort those only, and more
            # only when some row needs it. Same result as a full sort, much cheaper.
            for size in (*NUCLEUS_HEADS, probs.shape[-1]):
                ranked, ranked_idx = probs.topk(min(size, probs.shape[-1]), dim=-1)
                if bool((ranked.sum(-1, keepdim=True) >= top_ps).all()):
                    break
            # Keep the smallest head whose mass reaches top_p (always at least the top token).
            ranked = ranked.masked_fill(ranked.cumsum(-1) - ranked >= top_ps, 0.0)
        else:
            ranked, ranked_idx = probs, None
        # Inverse-CDF sampling: one uniform draw per row from that row's own generator.
        cdf = ranked.cumsum(-1)
        draws = torch.cat([torch.rand(1, generator=gen) for gen in self.generators]).to(cdf.device)
        position = torch.searchsorted(cdf, (draws * cdf[:, -1]).unsqueeze(-1), right=True)
        position = position.clamp(max=cdf.shape[-1] - 1)
        chosen = position if ranked_idx is None else ranked_idx.gather(-1, position)
        greedy = self.greedy.to(scores.device)
        if bool(greedy.any()):
            chosen = torch.where(greedy.unsqueeze(-1), scores.argmax(-1, keepdim=True), chosen)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(-1, chosen, 0.0)


class _NewTokens(StoppingCriteria):
    """A stopping criterion that knows where the generated part of `input_ids` starts."""

    start: int | None = None

    def new_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        if self.start is None:  # the first call sees the prompt plus one new token
            self.start = input_ids.shape[1] - 1
        return input_ids[:, self.start:]


class TurnEnd(_NewTokens):
    """Stops a row once its text opens another speaker's turn ("\\nStudent:", ...)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, input_ids, scores, **kwargs):
        tails = self.tokenizer.batch_decode(self.new_tokens(input_ids), skip_special_tokens=True)
        return torch.tensor([turn_has_ended(t) for t in tails], dtype=torch.bool, device=input_ids.device)


class RowStop(_NewTokens):
    """Stops row i after `limits[i]` new tokens, or once `cancelled(i)` is true (its reader has gone)."""

    def __init__(self, limits: Sequence[int], cancelled: Callable[[int], bool] | None = None):
        self.limits = torch.tensor(limits)
        self.cancelled = cancelled

    def __call__(self, input_ids, scores, **kwargs):
        done = self.limits.to(input_ids.device) <= self.new_tokens(input_ids).shape[1]
        if self.cancelled is not None:
            gone = [self.cancelled(row) for row in range(input_ids.shape[0])]
            done = done | torch.tensor(gone, dtype=torch.bool, device=input_ids.device)
        return done


class RowStreamer(BaseStreamer):
    """Hands each row's text to `emit(row, piece)` as its tokens arrive, and `emit(row, None)` once.

    A row ends at an end token (after a stopping criterion, generate pads a row with the pad
    token, which is one of `end_ids`) or when generation ends. Text is decoded from the row's whole
    token list and only complete characters are sent: a byte-level token may hold half of one.
    """

    def __init__(self, tokenizer, end_ids: Sequence[int], emit: Callable[[int, str | None], None]):
        self.tokenizer, self.end_ids, self.emit = tokenizer, set(end_ids), emit
        self.tokens: list[list[int]] | None = None

    def put(self, value) -> None:
        if self.tokens is None:  # the first call carries the prompt
            self.tokens = [[] for _ in range(value.shape[0])]
            self.sent = [""] * value.shape[0]
            self.ended = [False] * value.shape[0]
            return
        for row, token in enumerate(value.tolist()):
            if self.ended[row]:
                continue
            if token in self.end_ids:
                self._end(row)
                continue
            self.tokens[row].append(token)
            self._send(row, hold_partial=True)

    def end(self) -> None:
        for row in range(len(self.tokens or [])):
            if not self.ended[row]:
                self._end(row)

    def _send(self, row: int, hold_partial: bool) -> None:
        text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
        if hold_partial and text.endswith("\ufffd"):
            return
        if len(text) > len(self.sent[row]):
            self.emit(row, text[len(self.sent[row]):])
            self.sent[row] = text

    def _end(self, row: int) -> None:
        self._send(row, hold_partial=False)
        self.ended[row] = True
        self.emit(row, None)
