"""Would the embedded LLM's hidden states be better features for the learned judge than MiniLM's? (issue 17)

    flock /tmp/socratic-heavy.lock .venv/bin/python experiments/llm_features_cv.py [--out F]

The learned judge's linear heads see text signals + the top PCA dims of the reply's MiniLM vector.
MiniLM was trained for sentence similarity; SmolLM2-135M-Instruct (the embedded model, 30 layers, 576
wide) has read dialogue. Here the reply is read as the assistant's turn after the student's last turn
(chat template, at most 60 words of it) and its tokens' hidden states are mean-pooled, at the middle
layer (15) and at the last (30) — both fixed before any result (probing studies favour middle layers).
Those vectors replace the MiniLM columns, everything else as shipped (DEFAULT_FIT: PCA 32, C 0.2, ...).

Protocol: experiments/select_learned_judge.py's, unchanged (same items, same grouped 5-fold CV on the selection
part, same metrics and bootstrap; the held-out part is not touched). Also timed: replies per second of
the feature extraction on 2 cores (the judge's speed target is 100 judgments/s).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from select_learned_judge import cross_validate, elapsed_log, protocol_items, with_ci, write_result

from socratic.backends.embedded import embedded_model_dir
from socratic.judge.learned.features import SIGNAL_NAMES, featurize
from socratic.judge.learned.fit import DEFAULT_FIT
from socratic.judge.rubric.judge import dialogue_texts

LAYERS = (15, 30)
CONTEXT_WORDS = 60
MAX_TOKENS = 256
BATCH = 16


def hidden_states(items, log) -> tuple[dict[int, np.ndarray], float]:
    """Per layer in LAYERS, [n, 576]: the mean of the reply tokens' hidden states; and the seconds taken."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = str(embedded_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.bfloat16).eval()
    rows: list[tuple[list[int], int]] = []
    for item in items:
        last = " ".join(dialogue_texts(item.dialogue)["last"].split()[-CONTEXT_WORDS:])
        text = tokenizer.apply_chat_template([{"role": "user", "content": last}], tokenize=False,
                                             add_generation_prompt=True)
        prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
        reply = tokenizer(item.reply, add_special_tokens=False)["input_ids"][: MAX_TOKENS - len(prompt)] or [
            tokenizer.eos_token_id]
        rows.append((prompt + reply, len(prompt)))
    out = {layer: np.zeros((len(items), model.config.hidden_size), dtype=np.float32) for layer in LAYERS}
    order = np.argsort([len(ids) for ids, _ in rows])  # batches of similar length: less padding
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            width = max(len(rows[i][0]) for i in batch)
            ids = torch.full((len(batch), width), tokenizer.eos_token_id)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            reply_mask = torch.zeros((len(batch), width, 1))
            for j, i in enumerate(batch):
                tokens, prompt_len = rows[i]
                ids[j, :len(tokens)] = torch.tensor(tokens)
                mask[j, :len(tokens)] = 1
                reply_mask[j, prompt_len:len(tokens)] = 1
            states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
            for layer in LAYERS:
                pooled = (states[layer].float() * reply_mask).sum(1) / reply_mask.sum(1)
                out[layer][batch] = pooled.numpy()
            if (start // BATCH) % 10 == 0:
                log(f"  {start + len(batch)}/{len(order)} replies")
    seconds = time.perf_counter() - started
    log(f"hidden states of {len(items)} replies in {seconds:.1f}s ({len(items) / seconds:.1f} replies/s)")
    return out, seconds


def main(argv: list[str]) -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    started = time.perf_counter()
    log = elapsed_log()
    items, groups, src, y, dev, _ = protocol_items()
    X = featurize([(i.dialogue, i.reply) for i in items])
    signals = X[:, :len(SIGNAL_NAMES)]
    states, seconds = hidden_states(items, log)
    variants = {"minilm (shipped)": X, **{f"smollm2 layer {layer}": np.hstack([signals, states[layer]])
                                          for layer in LAYERS}}
    result = {"n_scored": len(dev), "config": DEFAULT_FIT.__dict__, "extraction_seconds": round(seconds, 1),
              "replies_per_second": round(len(items) / seconds, 1), "cv": {}}
    for name, features in variants.items():
        pred = cross_validate(DEFAULT_FIT, features, y, src, groups, dev)
        result["cv"][name] = with_ci(pred, y, src, groups, dev)
        log(name + " " + json.dumps({k: v["estimate"] for k, v in result["cv"][name].items()}))
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(result, args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
