"""Local transformers models: the `embedded` SmolLM2 and `hf:PATH` (a model folder or a PEFT adapter folder).

    backend = TransformersBackend("/path/to/model", spec="hf:/path/to/model")
    backend.generate([messages], GenerationOptions(n=5, max_new_tokens=64))   # [[5 replies]]

Speed on a CPU comes from: conversations sorted by length and decoded in batches (left padding);
each prompt prefilled once, on its own (no padding, so the causal attention kernel runs), its KV cache
stacked into the batch and repeated for the n samples; a KV cache that grows in place
(kv_cache.py); our own decoding loop (`_decode`), in which a row that has finished leaves the batch
at once instead of being decoded as padding until the batch's longest row ends; bf16 where the hardware
supports it (see auto_dtype); and, where a caller turns it on (the pressure test, chat, serve), a prompt
that extends an earlier one is prefilled only from where it leaves it (prefixes.py). bench/bench_generate.py,
bench/bench_decode.py and bench/bench_eval.py measure it. Import `socratic` before torch loads (the CLI
does): it sets OMP_WAIT_POLICY=PASSIVE, without which torch is several times slower on a busy CPU.

Determinism: each sample draws from its own torch.Generator seeded by (seed, conversation,
sample index), and greedy decoding has no randomness, so the same call (conversations, options,
seed, batch_size, dtype) gives the same replies. In float32 a reply also does not depend on which
other conversations share its batch, nor on the batch size (up to float rounding, which can flip a
near-tie token in rare cases); in bfloat16 the rounding changes with the batch's shape, so a
conversation batched with others may get different replies than alone. seed=None samples freshly.
`generate_streaming` decodes rows with options of their own (the server's concurrent requests).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub: models are local folders

import torch
from transformers import DynamicCache

from socratic.backends.base import (
    BackendError,
    GenerationOptions,
    cut_at_turn_end,
    stream_until_turn_end,
    turn_has_ended,
)
from socratic.backends.decoding import RowSampler, RowStop, RowStreamer, TurnEnd
from socratic.backends.kv_cache import RoomyCache
from socratic.backends.prefixes import PrefixStore
from socratic.errors import SocraticError
from socratic.memory import return_freed_memory
from socratic.render import Message

# dtype="auto": bfloat16 where the hardware computes it natively (CPUs with avx512_bf16/amx_bf16, recent
# GPUs), else float32. Measured on the 2-core dev CPU (avx512_bf16), k=5 sampled replies of 64 tokens to
# 8 MathDial prompts of 540-1080 tokens, batched: bf16 7.3 s vs fp32 11.0 s per conversation, with
# replies of the same quality (bf16 without native support is emulated and several times slower).
# Rows (conversations x samples) decoded as one batch. 32 holds `socratic generate`'s default call of 4
# dialogues x k=8 (configs/cpu.yaml) in one batch instead of two of 2 x 8: with finished rows leaving
# the batch, 8 train dialogues x k=8 took 28.6 s instead of 33.3 s at 20 rows (39.8 s before the decoding
# loop), bench/bench_decode.py on the 2-core dev CPU, 2026-12-04.
DEFAULT_BATCH_SIZE = 32

_WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.gguf")
_CONFIG_FILES = ("config.json", "adapter_config.json", "generation_config.json", "tokenizer_config.json",
                 "chat_template.jinja")
_END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")


def folder_fingerprint(folder: str | Path) -> str:
    """A short hash of a model folder's weights (name, size, mtime) and small config files (content).

    Cheap (no reading of the weights) yet changes whenever training writes new weights into the folder.
    """
    folder = Path(folder)
    parts: list[object] = []
    for pattern in _WEIGHT_PATTERNS:
        for file in sorted(folder.glob(pattern)):
            stat = file.stat()
            parts.append([file.name, stat.st_size, stat.st_mtime_ns])
    for name in _CONFIG_FILES:
        if (folder / name).exists():
            parts.append([name, (folder / name).read_text("utf-8", errors="replace")])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def auto_dtype(device: str) -> str:
    """bfloat16 where the hardware has native bf16 arithmetic, else float32."""
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:  # not Linux
        return "float32"
    return "bfloat16" if device == "cpu" and re.search(r"\b(avx512_bf16|amx_bf16)\b", flags) else "float32"


def is_adapter_folder(folder: Path) -> bool:
    has_weights = any(folder.glob("model*.safetensors")) or any(folder.glob("pytorch_model*.bin"))
    return (folder / "adapter_config.json").exists() and not has_weights


def sample_seed(seed: int, messages: Sequence[Message], index: int) -> int:
    """The seed of one sample: a function of the run seed, the conversation and the sample index only."""
    digest = hashlib.sha256(json.dumps([seed, list(messages), index], sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


class TransformersBackend:
    """A causal LM from a local folder, run with transformers on the CPU (or a GPU when present)."""

    supports_json_schema = False

    def __init__(self, path: str | Path, spec: str | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 dtype: str = "auto", device: str | None = None, base: str | Path | None = None):
        self.path = Path(path).expanduser()
        self.spec = spec or f"hf:{self.path}"
        if not self.path.is_dir():
            raise SocraticError(f"{self.spec}: no model folder at {self.path}")
        self.batch_size = max(1, batch_size)
        self.requested_dtype = dtype
        self._lock = threading.Lock()  # one generation at a time: torch already uses every core
        self.prefixes: PrefixStore | None = None  # on inside prefixes.reusing_prefixes
        self._load(base, device)

    # -- loading -------------------------------------------------------------------------------

    def _load(self, base: str | Path | None, device: str | None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype_name = auto_dtype(self.device) if self.requested_dtype == "auto" else self.requested_dtype
        if self.dtype_name not in {"float32", "bfloat16", "float16"}:
            raise SocraticError(f"dtype must be auto, float32, bfloat16 or float16, not {self.dtype_name!r}")
        dtype = getattr(torch, self.dtype_name)
        adapter = is_adapter_folder(self.path)
        model_dir = self._base_dir(base) if adapter else self.path
        fingerprint = folder_fingerprint(self.path)
        if adapter:
            fingerprint += "+" + folder_fingerprint(model_dir)
        self.cache_id = f"{self.spec}#{fingerprint}"
        try:
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, local_files_only=True)
            if adapter:
                from peft import PeftModel

                # Merged once at load time: no per-layer adapter overhead while generating.
                model = PeftModel.from_pretrained(model, self.path, local_files_only=True).merge_and_unload()
            has_tokenizer = (self.path / "tokenizer_config.json").exists()
            tokenizer = AutoTokenizer.from_pretrained(self.path if has_tokenizer else model_dir,
                                                      local_files_only=True)
        except (OSError, ValueError) as error:
            raise SocraticError(f"{self.spec}: cannot load the model from {self.path}: {error}") from error
        self.model = model.to(self.device).eval()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        if not tokenizer.chat_template:
            raise SocraticError(f"{self.spec}: the tokenizer in {self.path} has no chat template")
        self.tokenizer = tokenizer
        self.eos_ids = self._end_token_ids()

    def _base_dir(self, base: str | Path | None) -> Path:
        config = json.loads((self.path / "adapter_config.json").read_text("utf-8"))
        name = str(base or config.get("base_model_name_or_path") or "")
        candidate = Path(name).expanduser()
        if not candidate.is_absolute():
            relative = (self.path / candidate).resolve()
            candidate = relative if relative.is_dir() else candidate
        if candidate.is_dir():
            return candidate
        if "smollm2-135m-instruct" in name.lower():
            from socratic.backends.embedded import embedded_model_dir

            return embedded_model_dir()  # the hub name of the embedded model: use the local copy
        raise SocraticError(f"{self.spec}: the adapter's base model {name!r} is not a local folder "
                            "(offline: point base_model_name_or_path in adapter_config.json at one)")

    def _end_token_ids(self) -> list[int]:
        ids = set()
        for value in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            ids.update(value if isinstance(value, list) else [value] if value is not None else [])
        vocab = self.tokenizer.get_vocab()
        ids.update(vocab[token] for token in _END_TOKENS if token in vocab)
        return sorted(ids)

    @property
    def context_length(self) -> int | None:
        """The model's context in tokens (prompt + reply), from its config."""
        config = self.model.config
        value = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        return int(value) if value else None

    # -- prompts -------------------------------------------------------------------------------

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        """The token ids the model sees for `messages`, ending with the assistant's turn opener."""
        encoded = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True,
                                                     return_dict=True)
        return list(encoded["input_ids"])

    def _seed(self, options: GenerationOptions, messages: Sequence[Message], index: int) -> int:
        if options.seed is None:
            return int.from_bytes(os.urandom(8), "little") >> 1
        return sample_seed(options.seed, messages, index)

    # -- generation ----------------------------------------------------------------------------

    def generate(self, conversations: Sequence[list[Message]], options: GenerationOptions) -> list[list[str]]:
        """`options.n` replies for each conversation, batched; see the module docstring on determinism."""
        conversations = [list(c) for c in conversations]
        if not conversations:
            return []
        n = options.n
        per_batch = max(1, self.batch_size // n)
        prompts = [self.prompt_ids(c) for c in conversations]
        # Similar lengths together: less padding per batch.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        replies: list[list[str]] = [[] for _ in conversations]
        with self._lock:
            for start in range(0, len(order), per_batch):
                chunk = order[start:start + per_batch]
                rows = [_Row.of(options, self._seed(options, conversations[i], k)) for i in chunk for k in range(n)]
                new_tokens = self._decode([prompts[i] for i in chunk], rows, n)
                texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                for slot, i in enumerate(chunk):
                    replies[i] = [cut_at_turn_end(t) for t in texts[slot * n:(slot + 1) * n]]
            return_freed_memory()  # the batches' KV caches: else the next call starts GBs larger (memory.py)
        return replies

    def generate_streaming(self, conversations: Sequence[list[Message]], options: Sequence[GenerationOptions],
                           emit: Callable[[int, str | None], None],
                           cancelled: Callable[[int], bool] | None = None) -> None:
        """One reply per conversation, each with its own options, all decoded as one batch.

        Raw text pieces go to `emit(row, piece)` as tokens arrive and `emit(row, None)` ends a row;
        `cancelled(row)` true stops that row at its next token. The server batches concurrent
        requests through this (serve/batcher.py).
        """
        prompts = [self.prompt_ids(c) for c in conversations]
        rows = [_Row.of(o, self._seed(o, c, 0)) for c, o in zip(conversations, options, strict=True)]
        streamer = RowStreamer(self.tokenizer, [*self.eos_ids, self.tokenizer.pad_token_id], emit)
        with self._lock:
            self._decode(prompts, rows, 1, streamer=streamer, cancelled=cancelled)

    def _decode(self, prompts: list[list[int]], rows: list[_Row], n: int, *, streamer: RowStreamer | None = None,
                cancelled: Callable[[int], bool] | None = None) -> list[list[int]]:
        """The new tokens of `rows` (prompt-major: the n rows of each prompt side by side), one batch.

        Our own loop rather than `model.generate`: a row that has finished (end token, end of the
        tutor's turn, its token limit, cancelled) leaves the batch and its KV cache at once, where
        generate decoded it (as padding) until the batch's longest row ended. Same tokens as generate
        (tests/backends/test_backends_transformers.py compares them in float32); models whose
        generation_config asks for more (repetition penalty, ...) keep generate (`_decode_generate`).
        """
        if self._needs_generate():
            return self._decode_generate(prompts, rows, n, streamer=streamer, cancelled=cancelled)
        ids, mask, limits, cache = self._batch(prompts, rows)
        width, pad = ids.shape[1], self.tokenizer.pad_token_id
        sampler = None
        if any(row.temperature > 0 for row in rows):
            sampler = RowSampler([row.seed for row in rows], [row.temperature for row in rows],
                                 [row.top_p for row in rows])
        ends = set(self.eos_ids)
        new: list[list[int]] = [[] for _ in rows]
        with torch.inference_mode():
            fed = 0
            if min(len(p) for p in prompts) > 1:
                # Prefill each prompt once, then repeat its KV cache for the n samples.
                self._prefill(prompts, ids, mask, cache)
                cache.batch_repeat_interleave(n)
                fed = width - 1
            mask = mask.repeat_interleave(n, 0)
            # Positions as generate counts them: real tokens before, padding at 1.
            positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
            inputs, positions = ids.repeat_interleave(n, 0)[:, fed:], positions[:, fed:]
            if streamer is not None:
                streamer.put(ids.repeat_interleave(n, 0))
            live = list(range(len(rows)))  # the rows still in the batch, in batch order
            while live:
                logits = self.model(input_ids=inputs, attention_mask=mask, position_ids=positions, cache=cache,
                                    use_cache=True, logits_to_keep=1).logits[:, -1, :].float()
                chosen = (sampler(None, logits) if sampler is not None else logits).argmax(-1).tolist()
                if streamer is not None:
                    step = [pad] * len(rows)
                    for row, token in zip(live, chosen, strict=True):
                        step[row] = token
                    streamer.put(torch.tensor(step))
                done = {slot for slot, (row, token) in enumerate(zip(live, chosen, strict=True))
                        if self._row_done(row, token, new[row], ends, limits[row], cancelled)}
                if done:
                    if len(done) == len(live):
                        break
                    keep = fill_places(len(live), done)
                    index = torch.tensor(keep, device=self.device)
                    cache.batch_select_indices(index)
                    mask, positions = mask[index], positions[index]
                    if sampler is not None:
                        sampler.keep(keep)
                    live = [live[slot] for slot in keep]
                inputs = torch.tensor([[new[row][-1]] for row in live], device=self.device)
                positions = positions[:, -1:] + 1
                mask = torch.cat([mask, mask.new_ones(len(live), 1)], dim=-1)
        if streamer is not None:
            streamer.end()
        return new

    def _batch(self, prompts: list[list[int]], rows: list[_Row]) -> tuple[torch.Tensor, torch.Tensor, list[int],
                                                                          RoomyCache]:
        """The left-padded prompt ids and mask, each row's token limit, and a KV cache with room for them."""
        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        limits = [row.max_new_tokens for row in rows]
        return ids, mask, limits, RoomyCache(self.model.config, headroom=max(limits) + 1)

    def _row_done(self, row: int, token: int, tokens: list[int], ends: set[int], limit: int,
                  cancelled: Callable[[int], bool] | None) -> bool:
        """Append `token` to the row's `tokens`; whether the row has finished (generate's stopping rules)."""
        tokens.append(token)
        if token in ends or len(tokens) >= limit or (cancelled is not None and cancelled(row)):
            return True
        return turn_has_ended(self.tokenizer.decode(tokens, skip_special_tokens=True))

    def _needs_generate(self) -> bool:
        """Whether the model's generation_config sets logits processors our loop does not apply."""
        config = self.model.generation_config
        return bool((config.repetition_penalty or 1.0) != 1.0 or config.no_repeat_ngram_size
                    or config.bad_words_ids or config.min_length or config.min_new_tokens
                    or config.suppress_tokens or config.begin_suppress_tokens or config.forced_bos_token_id
                    or config.forced_eos_token_id or config.sequence_bias)

    def _decode_generate(self, prompts: list[list[int]], rows: list[_Row], n: int, *,
                         streamer: RowStreamer | None = None,
                         cancelled: Callable[[int], bool] | None = None) -> list[list[int]]:
        """`_decode` through `model.generate` (every row decoded until the longest ends)."""
        from transformers import LogitsProcessorList, StoppingCriteriaList

        ids, mask, limits, cache = self._batch(prompts, rows)
        width, pad = ids.shape[1], self.tokenizer.pad_token_id
        kwargs = {"max_new_tokens": max(limits), "eos_token_id": self.eos_ids, "pad_token_id": pad,
                  "do_sample": False, "cache": cache, "streamer": streamer,
                  "stopping_criteria": StoppingCriteriaList([TurnEnd(self.tokenizer), RowStop(limits, cancelled)]),
                  # Silence the model's own sampling defaults: sampling happens in RowSampler.
                  "temperature": None, "top_p": None, "top_k": None}
        if any(row.temperature > 0 for row in rows):
            kwargs["logits_processor"] = LogitsProcessorList([RowSampler(
                [row.seed for row in rows], [row.temperature for row in rows], [row.top_p for row in rows])])
        with torch.inference_mode():
            if min(len(p) for p in prompts) > 1:
                self._prefill(prompts, ids, mask, cache)
                cache.batch_repeat_interleave(n)
            output = self.model.generate(input_ids=ids.repeat_interleave(n, 0),
                                         attention_mask=mask.repeat_interleave(n, 0), **kwargs)
        return output[:, width:].tolist()

    def _prefill(self, prompts: list[list[int]], ids: torch.Tensor, mask: torch.Tensor, cache: RoomyCache) -> None:
        """Fill `cache` with every prompt but its last token, which `generate` then feeds.

        Each prompt on its own where the model attends to the full context: without padding the causal
        attention kernel skips the masked half, and the prefill of 8 MathDial prompts (540-1080 tokens)
        took 3.9 s instead of 7.8 s as one padded batch on the dev CPU. Otherwise one padded batch.
        """
        if cache.full_attention:
            # Stored prefixes (self.prefixes) must stay whole; otherwise nothing else holds the one-prompt caches.
            cache.fill_left_padded([self._prefill_one(prompt[:-1]) for prompt in prompts], ids.shape[1] - 1,
                                   release=self.prefixes is None)
        else:
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            self.model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=positions[:, :-1],
                       cache=cache, use_cache=True, logits_to_keep=1)

    def _prefill_one(self, tokens: list[int]) -> DynamicCache:
        """The KV cache of `tokens` alone; from where they leave a stored prefix, when prefixes are kept."""
        start, single = self.prefixes.longest(tokens) if self.prefixes is not None else (0, None)
        single = single if single is not None else DynamicCache(config=self.model.config)
        if start < len(tokens):
            self.model(input_ids=torch.tensor([tokens[start:]], device=self.device), cache=single, use_cache=True,
                       logits_to_keep=1)
        if self.prefixes is not None:
            self.prefixes.put(tokens, single)
        return single

    def stream(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """One reply, piece by piece as tokens arrive (generation runs in a background thread)."""
        pieces: queue.Queue[str | None] = queue.Queue()
        cancel = threading.Event()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                self.generate_streaming([messages], [options], lambda _row, piece: pieces.put(piece),
                                        lambda _row: cancel.is_set())
            except BaseException as error:  # noqa: BLE001 - surfaced in the caller's thread below
                errors.append(error)
            finally:
                pieces.put(None)

        def raw() -> Iterator[str]:
            while (piece := pieces.get()) is not None:
                yield piece

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            yield from stream_until_turn_end(raw())
        finally:
            # The reader is done (the turn ended, or it stopped listening): stop at the next token.
            cancel.set()
            thread.join()
        if errors:
            raise BackendError(f"{self.spec}: generation failed: {errors[0]}") from errors[0]


def fill_places(size: int, done: set[int]) -> list[int]:
    """The batch order after the rows at `done` leave: each place of a finished row among the first ones
    taken by a row from the end, so the KV cache moves one row per finished row (kv_cache.RoomyLayer)."""
    kept = size - len(done)
    movers = iter([slot for slot in range(kept, size) if slot not in done])
    return [next(movers) if slot in done else slot for slot in range(kept)]


@dataclass(frozen=True)
class _Row:
    """The sampling settings of one row of a batch."""

    seed: int
    temperature: float
    top_p: float
    max_new_tokens: int

    @classmethod
    def of(cls, options: GenerationOptions, seed: int) -> _Row:
        greedy = options.greedy or options.temperature == 0
        return cls(seed, 0.0 if greedy else options.temperature, 1.0 if greedy else options.top_p,
                   options.max_new_tokens)
