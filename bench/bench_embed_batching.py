"""Batch-independent MiniLM embeddings (issue 30): their speed cost, and whether scores move with batching.

    flock /tmp/socratic-heavy.lock .venv/bin/python bench/bench_embed_batching.py [--items 600]

1. Speed: the texts `featurize` embeds for the learned judge's shipped training items (replies at 128
   tokens, contexts at 64), embedded the old way (bf16 weights, batches of 32) and the current way
   (float32, one text per call), alternating three times; median and best. A third way, tried and not
   shipped (issue 40): float32 in batches of texts of one token length only (no padding).
2. Batch dependence: replies whose vector changes when the batch order changes, per way; for the third way
   also replies whose vector differs from one text per call's, by token length.
3. Rubric scores on the 50 socratic_llm dev items, old vs current embeddings.
4. A simulated resume: N test-set (dialogue, reply) items judged by `rubric` and `learned` (fitted afresh
   in a temp SOCRATIC_HOME) in one call, then in reversed chunks of 37 with the embedding cache emptied;
   records (full JSON) that differ.
Figures of 2026-12-04 are in docs/guarantees.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from socratic.data import load_dialogues, load_labelled
from socratic.data.location import data_file
from socratic.judge import load_judge
from socratic.judge.labels.human import training_items
from socratic.judge.learned.features import _texts
from socratic.judge.rubric import embedding as rubric
from socratic.store.cache import NoCache

BUCKETS = 0  # a batch size meaning "texts of one token length together, up to 64 to a call"
WAYS = {"old (bf16, batch 32)": (torch.bfloat16, 32), "current (fp32, one per call)": (torch.float32, 1),
        "tried (fp32, same-length buckets)": (torch.float32, BUCKETS)}


def token_lengths(model, texts: list[str]) -> list[int]:
    return model.preprocess(texts)["attention_mask"].sum(dim=1).tolist()


def same_length_buckets(model, texts: list[str], most: int = 64) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for text, length in zip(texts, token_lengths(model, texts), strict=True):
        groups.setdefault(length, []).append(text)
    return [group[start:start + most] for group in groups.values() for start in range(0, len(group), most)]


def workload() -> tuple[list[str], list[str]]:
    items = training_items(())
    replies = list(dict.fromkeys(i.reply.strip() or "(empty)" for i in items))
    contexts = []
    for item in items:
        texts = _texts(item.dialogue)
        contexts += [texts["last"], texts["problem"], texts["prev_tutor"], item.dialogue.reference or ""]
    return replies, list(dict.fromkeys(c.strip() or "(empty)" for c in contexts))


def encode(model, batch: int, texts: list[str], tokens: int, order=None) -> np.ndarray:
    model.max_seq_length = tokens
    seq = texts if order is None else [texts[i] for i in order]
    if batch == BUCKETS:
        table = {}
        for bucket in same_length_buckets(model, seq):
            table.update(zip(bucket, model.encode(bucket, batch_size=len(bucket), normalize_embeddings=True,
                                                  convert_to_numpy=True, show_progress_bar=False), strict=True))
        vectors = np.stack([table[t] for t in seq])
    else:
        vectors = model.encode(seq, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
    if order is not None:
        unshuffled = np.empty_like(vectors)
        unshuffled[order] = vectors
        vectors = unshuffled
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=600)
    args = parser.parse_args()
    replies, contexts = workload()
    n = len(replies) + len(contexts)
    print(f"workload: {len(replies)} replies + {len(contexts)} contexts = {n} texts; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    models = {name: SentenceTransformer(str(rubric.minilm_dir()), device="cpu", local_files_only=True,
                                        model_kwargs={"torch_dtype": dtype}) for name, (dtype, _) in WAYS.items()}
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    first = {}
    for name in WAYS:
        encode(models[name], WAYS[name][1], replies[:64], 128)  # warm-up
    for round_number in range(3):
        for name in (list(WAYS) if round_number % 2 == 0 else list(WAYS)[::-1]):
            started = time.perf_counter()
            vectors = encode(models[name], WAYS[name][1], replies, 128)
            encode(models[name], WAYS[name][1], contexts, 64)
            times[name].append(time.perf_counter() - started)
            first.setdefault(name, vectors)
    for name, runs in times.items():
        print(f"{name}: median {statistics.median(runs):.1f} s, best {min(runs):.1f} s of "
              f"{[round(x, 1) for x in runs]} = {1000 * min(runs) / n:.2f} ms/text (best)", flush=True)
    old, new, tried = list(WAYS)
    print(f"cost: {statistics.median(times[new]) / statistics.median(times[old]):.2f}x (median), "
          f"{min(times[new]) / min(times[old]):.2f}x (best)", flush=True)
    print(f"{tried}: {statistics.median(times[new]) / statistics.median(times[tried]):.2f}x faster than current "
          f"(median), {min(times[new]) / min(times[tried]):.2f}x (best)", flush=True)
    models[new].max_seq_length = 128
    lengths = np.array(token_lengths(models[new], replies))
    moved = np.abs(first[tried] - first[new]).max(axis=1) > 0
    print(f"{tried}: replies whose vector differs from one per call's: {int(moved.sum())} of {len(replies)} "
          f"(token lengths {sorted(set(lengths[moved].tolist()))}; of replies with >= 12 tokens: "
          f"{int(moved[lengths >= 12].sum())} of {int((lengths >= 12).sum())})", flush=True)

    order = np.random.default_rng(0).permutation(len(replies))
    for name in WAYS:
        diff = np.abs(first[name] - encode(models[name], WAYS[name][1], replies, 128, order)).max(axis=1)
        print(f"{name}: replies whose vector changes with the batch order: {int((diff > 0).sum())} of "
              f"{len(replies)}, max |diff| {diff.max():.2e}", flush=True)

    dev = load_labelled(data_file("socratic_llm", "mathdial_human_eval_dev.json"))
    scores = {}
    original = (rubric.load_encoder, rubric.BATCH)
    for name in (old, new):
        rubric._VECTORS.clear()
        rubric.load_encoder, rubric.BATCH = (lambda model=models[name]: model), WAYS[name][1]
        judged = load_judge("rubric", cache=NoCache()).judge_many([(i.dialogue, i.reply) for i in dev], progress=False)
        scores[name] = [j.scores.model_dump() for j in judged]
    rubric.load_encoder, rubric.BATCH = original
    changed = sum(a[k] != b[k] for a, b in zip(scores[old], scores[new], strict=True) for k in a)
    print(f"rubric on the socratic_llm dev 50: {changed} of {50 * len(scores[old][0])} criterion scores differ "
          "old vs current", flush=True)

    os.environ["SOCRATIC_HOME"] = tempfile.mkdtemp()  # the learned judge fitted with the current features
    items = []
    for source in ("mathdial", "debugging", "tutorchat"):
        for d in load_dialogues(source, "test")[:100]:
            items += [(d, f"What happens if you check {d.turns[-1].text[:40]!r} again?"), (d, "The answer is 42.")]
    items = items[:args.items]
    for spec in ("rubric", "learned"):
        judge = load_judge(spec, cache=NoCache())
        rubric._VECTORS.clear()
        started = time.perf_counter()
        whole = [j.model_dump_json() for j in judge.judge_many(items, progress=False)]
        seconds = time.perf_counter() - started
        rubric._VECTORS.clear()
        parts: dict[int, str] = {}
        reverse = list(range(len(items)))[::-1]
        for start in range(0, len(reverse), 37):
            chunk = reverse[start:start + 37]
            for index, judgment in zip(chunk, judge.judge_many([items[i] for i in chunk], progress=False),
                                       strict=True):
                parts[index] = judgment.model_dump_json()
        differ = sum(whole[i] != parts[i] for i in range(len(items)))
        print(f"{spec}: {differ} of {len(items)} records differ between one call and reversed chunks of 37 "
              f"(first pass {seconds:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
