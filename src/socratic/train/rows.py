"""Training rows: reading pairs.jsonl and fitting each prompt into the length budget, for DPO's
preference pairs and the SFT warm-up's prompt-completion examples alike.

Pure functions (no model, no files) except `read_pairs`. Used by `socratic.train.dpo` and `.sft`:

    pairs = read_pairs("run/pairs.jsonl")
    rows, stats = prepare_pairs(pairs, tokenizer, max_length=1024, max_prompt_length=768)
    rows, stats = prepare_completions([(prompt, reply)], tokenizer, max_length=1024, max_prompt_length=768)

Why we fit prompts ourselves: TRL 1.16's DPOTrainer only knows `max_length`, cuts prompt+completion
from the end (keep_start) and silently DROPS every example whose prompt alone fills it. The
reference implementation cut prompts to their last 128 tokens and lost the tutor instructions.
Here the rules are:

1. The system message (tutor instructions + context) and the student's last turn are never dropped.
2. Older turns go first, oldest first; the kept conversation restarts on a student turn.
3. If system + last turn still do not fit, the *context* part of the system message (the problem,
   the student's code) is shortened from the middle, keeping its start and end around a
   `[...]` mark. The instructions themselves are never cut; the student's last turn neither.
4. If even instructions + last turn do not fit, `PromptTooLong` is raised.

The budget of each prompt is min(max_prompt_length, max_length - longest completion), so that
TRL never truncates a pair. When a completion is so long that the prompt cannot fit in what is
left, the prompt gets max_prompt_length and TRL cuts the completion's end (counted and reported).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socratic.errors import InputError, SocraticError
from socratic.records import PairRecord
from socratic.render import CONTEXT_MARKER
from socratic.store.jsonl import read_jsonl

ELISION = "\n[...]\n"

Messages = list[dict[str, str]]
TokenCounter = Callable[[Messages], int]


def read_pairs(path: str | Path) -> list[PairRecord]:
    """All pairs of a pairs.jsonl; bad lines raise InputError naming file:line:field."""
    pairs = read_jsonl(path, PairRecord)
    if not pairs:
        raise InputError("no preference pairs in the file", path=str(path))
    return pairs


class PromptTooLong(SocraticError):
    """The parts of a prompt that are never cut (instructions, last student turn) exceed the budget."""


def _with_context_kept(system: str, keep: int) -> str:
    """The system text with its context shortened to `keep` characters, from the middle."""
    head, _, context = system.partition(CONTEXT_MARKER)
    if keep >= len(context):
        return system
    start, end = (keep + 1) // 2, keep // 2
    kept = context[:start] + ELISION + (context[len(context) - end:] if end else "")
    return head + CONTEXT_MARKER + kept


def fit_prompt(messages: Sequence[dict[str, str]], count_tokens: TokenCounter,
               max_prompt_tokens: int) -> Messages:
    """The prompt, shortened (if needed) to at most `max_prompt_tokens` by the rules in the module doc.

    `messages` starts with an optional system message and ends on the student's (user) turn.
    `count_tokens(messages)` is the length of the prompt as the model sees it (chat template included).
    Returns a new list; the input is never modified.
    """
    messages = [dict(m) for m in messages]
    if count_tokens(messages) <= max_prompt_tokens:
        return messages
    system = messages[:1] if messages and messages[0]["role"] == "system" else []
    turns = messages[len(system):]
    # Drop the oldest turns one at a time; after a drop, the kept conversation must start on a
    # student turn, so a leading tutor turn goes too.
    while len(turns) > 1:
        turns = turns[1:]
        while len(turns) > 1 and turns[0]["role"] != "user":
            turns = turns[1:]
        if count_tokens(system + turns) <= max_prompt_tokens:
            return system + turns
    candidate = system + turns
    if system and CONTEXT_MARKER in system[0]["content"]:
        text = system[0]["content"]
        context_chars = len(text.partition(CONTEXT_MARKER)[2])

        def fits(keep: int) -> bool:
            return count_tokens([{"role": "system", "content": _with_context_kept(text, keep)}] + turns) \
                <= max_prompt_tokens

        if fits(0):
            low, high = 0, context_chars  # largest `keep` that fits: fits(low) holds, fits(high) fails
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if fits(middle) else (low, middle)
            return [{"role": "system", "content": _with_context_kept(text, low)}] + turns
        candidate = [{"role": "system", "content": _with_context_kept(text, 0)}] + turns
    raise PromptTooLong(
        f"the tutor instructions and the student's last turn alone take {count_tokens(candidate)} tokens, "
        f"more than the prompt budget of {max_prompt_tokens}; raise max_prompt_length / max_length"
    )


def chat_token_counter(tokenizer: Any) -> TokenCounter:
    """count_tokens for fit_prompt: the prompt's length under the model's chat template."""

    def count(messages: Messages) -> int:
        encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        ids = encoded["input_ids"] if isinstance(encoded, dict) or hasattr(encoded, "keys") else encoded
        return len(ids)

    return count


def completion_tokens(tokenizer: Any, prompt: Messages, reply: Messages) -> int:
    """Tokens the reply adds after the prompt (chat template included), as TRL will see them."""
    full = tokenizer.apply_chat_template(prompt + reply, tokenize=True)
    full_ids = full["input_ids"] if hasattr(full, "keys") else full
    return len(full_ids) - chat_token_counter(tokenizer)(prompt)


@dataclass
class PrepareStats:
    pairs: int = 0
    prompts_shortened: int = 0
    turns_dropped: int = 0
    contexts_shortened: int = 0
    completions_cut: int = 0
    longest_prompt: int = 0
    longest_completion: int = 0
    skipped: int = 0  # examples left out because even their fixed parts exceed the budget (skip_too_long)

    def plus(self, other: PrepareStats) -> PrepareStats:
        """Both sets of rows together: counts add up, the longest stays the longest."""
        return PrepareStats(
            pairs=self.pairs + other.pairs, prompts_shortened=self.prompts_shortened + other.prompts_shortened,
            turns_dropped=self.turns_dropped + other.turns_dropped,
            contexts_shortened=self.contexts_shortened + other.contexts_shortened,
            completions_cut=self.completions_cut + other.completions_cut,
            longest_prompt=max(self.longest_prompt, other.longest_prompt),
            longest_completion=max(self.longest_completion, other.longest_completion),
            skipped=self.skipped + other.skipped)


def _fit_example(prompt: Messages, replies: Sequence[Messages], tokenizer: Any, count: TokenCounter,
                 stats: PrepareStats, *, max_length: int, max_prompt_length: int, source: str,
                 number: int) -> Messages:
    """One prompt fitted to the room its longest reply leaves (or to max_prompt_length, the reply then cut)."""
    longest = max(completion_tokens(tokenizer, prompt, reply) for reply in replies)
    stats.longest_completion = max(stats.longest_completion, longest)
    budget = min(max_prompt_length, max_length - longest)
    try:
        fitted = fit_prompt(prompt, count, budget) if budget > 0 else None
    except PromptTooLong:
        fitted = None
    if fitted is None:  # the completion leaves too little room: TRL will cut the completion's end
        try:
            fitted = fit_prompt(prompt, count, max_prompt_length)
        except PromptTooLong as error:
            raise InputError(str(error), path=source, line=number, field="prompt") from None
        stats.completions_cut += 1
    if fitted != prompt:
        stats.prompts_shortened += 1
        stats.turns_dropped += len(prompt) - len(fitted)
        stats.contexts_shortened += fitted[0]["content"] != prompt[0]["content"]
    stats.longest_prompt = max(stats.longest_prompt, count(fitted))
    return fitted


def prepare_pairs(pairs: Sequence[PairRecord], tokenizer: Any, *, max_length: int,
                  max_prompt_length: int, source: str = "pairs") -> tuple[list[dict[str, Any]], PrepareStats]:
    """TRL rows {prompt, chosen, rejected} with every prompt fitted, and what was shortened."""
    count = chat_token_counter(tokenizer)
    rows, stats = [], PrepareStats(pairs=len(pairs))
    for number, pair in enumerate(pairs, start=1):
        prompt = [m.model_dump() for m in pair.prompt]
        chosen = [m.model_dump() for m in pair.chosen]
        rejected = [m.model_dump() for m in pair.rejected]
        fitted = _fit_example(prompt, [chosen, rejected], tokenizer, count, stats, max_length=max_length,
                              max_prompt_length=max_prompt_length, source=source, number=number)
        rows.append({"prompt": fitted, "chosen": chosen, "rejected": rejected})
    return rows, stats


def prepare_completions(examples: Sequence[tuple[Messages, Messages]], tokenizer: Any, *, max_length: int,
                        max_prompt_length: int, source: str = "examples",
                        skip_too_long: bool = False) -> tuple[list[dict[str, Any]], PrepareStats]:
    """TRL prompt-completion rows {prompt, completion} from (prompt, reply) messages, fitted like the pairs.

    An example whose instructions and last student turn alone exceed the budget raises InputError, or, with
    skip_too_long (data socratic chose, not the user's), is left out and counted in `skipped`."""
    count = chat_token_counter(tokenizer)
    rows, stats = [], PrepareStats()
    for number, (prompt, completion) in enumerate(examples, start=1):
        try:
            fitted = _fit_example([dict(m) for m in prompt], [completion], tokenizer, count, stats,
                                  max_length=max_length, max_prompt_length=max_prompt_length, source=source,
                                  number=number)
        except InputError:
            if not skip_too_long:
                raise
            stats.skipped += 1
            continue
        stats.pairs += 1
        rows.append({"prompt": fitted, "completion": [dict(m) for m in completion]})
    return rows, stats
