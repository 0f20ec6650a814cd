"""Would fine-tuning MiniLM itself (a small cross-encoder) beat the learned judge's linear heads? (issue 17)

    flock /tmp/socratic-heavy.lock .venv/bin/python experiments/finetune_judge_cv.py [--epochs 3] [--folds 5] [--out F]

The learned judge fits logistic heads on frozen MiniLM vectors plus text signals; four rounds of selection
(bench/RESULTS.md) left it at Providing_Guidance Spearman 0.38 / macro-F1 0.46 in CV, against targets of
0.45 / 0.55 that the BEA 2025 winners reached by fine-tuning LLMs. This script measures the next step
down that road that fits a 2-core CPU: the embedded all-MiniLM-L6-v2 fine-tuned end to end on
(last student turn, reply) pairs, one output per criterion, losses masked where a source has no label.

Protocol: the one of experiments/select_learned_judge.py, unchanged: same items, same held-out part (not
touched here), 5-fold CV grouped by problem on the selection part, the same metrics with bootstrap CIs
over groups. Hyper-parameters are fixed before any result (below, the usual values for fine-tuning a
small BERT), not searched. Three predictors are scored on the same out-of-fold rows:
- `finetuned`: the fine-tuned encoder alone;
- `learned`: the shipped logistic fit (DEFAULT_FIT), refitted per fold;
- `mean`: the average of the two predictions per criterion (a fixed rule, not fitted).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from select_learned_judge import cross_validate, elapsed_log, metrics, protocol_items, with_ci, write_result

from socratic.agreement.cv import fold_of
from socratic.judge.learned.features import featurize
from socratic.judge.learned.fit import BINARY, DEFAULT_FIT
from socratic.judge.rubric.embedding import minilm_dir
from socratic.judge.rubric.judge import dialogue_texts
from socratic.scores import CRITERIA

MAX_LENGTH = 192
CONTEXT_WORDS = 60
BATCH = 16
ENCODER_LR = 4e-5
HEAD_LR = 1e-3
WARMUP = 0.1
SEED = 0


def pair(item) -> tuple[str, str]:
    """(the student's last turn, at most its last CONTEXT_WORDS words; the reply)."""
    last = dialogue_texts(item.dialogue)["last"].split()
    return " ".join(last[-CONTEXT_WORDS:]), item.reply


def scaled(y: dict[str, np.ndarray]) -> np.ndarray:
    """[n, 4] targets in [0, 1] (ordinal levels 1-5 -> 0-1), NaN where unlabelled."""
    return np.stack([y[c] if c in BINARY else (y[c] - 1) / 4 for c in CRITERIA], axis=1).astype(np.float32)


class CrossEncoder:
    def __init__(self):
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(SEED)
        self.torch = torch
        folder = str(minilm_dir())
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.encoder = AutoModel.from_pretrained(folder, local_files_only=True)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(CRITERIA))

    def _batch(self, pairs):
        a, b = zip(*pairs, strict=True)
        return self.tokenizer(list(a), list(b), truncation="longest_first", max_length=MAX_LENGTH,
                              padding=True, return_tensors="pt")

    def _logits(self, batch):
        torch = self.torch
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden.float() * mask).sum(1) / mask.sum(1)
        return self.head(pooled)

    def fit(self, pairs, target: np.ndarray, epochs: int, log=None):
        torch = self.torch
        rng = np.random.default_rng(SEED)
        steps = epochs * int(np.ceil(len(pairs) / BATCH))
        optimizer = torch.optim.AdamW([{"params": self.encoder.parameters(), "lr": ENCODER_LR},
                                       {"params": self.head.parameters(), "lr": HEAD_LR}], weight_decay=0.01)
        warm = max(1, int(WARMUP * steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        binary = torch.tensor([c in BINARY for c in CRITERIA])
        self.encoder.train()
        step = 0
        for epoch in range(epochs):
            order = rng.permutation(len(pairs))
            for start in range(0, len(order), BATCH):
                rows = order[start:start + BATCH]
                logits = self._logits(self._batch([pairs[i] for i in rows]))
                y = torch.from_numpy(target[rows])
                known = ~torch.isnan(y)
                y = torch.nan_to_num(y)
                bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
                mse = (torch.sigmoid(logits) - y) ** 2
                loss = (torch.where(binary, bce, 4 * mse) * known).sum() / known.sum().clamp(min=1)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                step += 1
                if log and step % 20 == 0:
                    log(f"  epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f}")
        self.encoder.eval()

    def predict(self, pairs) -> dict[str, np.ndarray]:
        torch = self.torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(pairs), 64):
                out.append(torch.sigmoid(self._logits(self._batch(pairs[start:start + 64]))).numpy())
        p = np.concatenate(out)
        return {c: p[:, j] if c in BINARY else 1 + 4 * p[:, j] for j, c in enumerate(CRITERIA)}


def main(argv: list[str]) -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5, help="run only the first N of the 5 folds (timing)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    started = time.perf_counter()
    log = elapsed_log()
    items, groups, src, y, dev, _ = protocol_items()
    pairs = [pair(i) for i in items]
    target = scaled(y)
    folds = np.array([fold_of(groups[i], 5) for i in dev])
    tuned = {c: np.full(len(items), np.nan) for c in CRITERIA}
    scored = []
    fold_seconds = []
    for fold in range(args.folds):
        test, train = dev[folds == fold], dev[folds != fold]
        t0 = time.perf_counter()
        model = CrossEncoder()
        model.fit([pairs[i] for i in train], target[train], args.epochs, log)
        for c, v in model.predict([pairs[i] for i in test]).items():
            tuned[c][test] = v
        scored.append(test)
        fold_seconds.append(round(time.perf_counter() - t0, 1))
        log(f"fold {fold}: {len(train)} train, {len(test)} scored, {fold_seconds[-1]}s; "
            + json.dumps({k: round(v, 3) for k, v in metrics(tuned, y, src, test).items()}))
    index = np.sort(np.concatenate(scored))
    X = featurize([(i.dialogue, i.reply) for i in items])
    learned = cross_validate(DEFAULT_FIT, X, y, src, groups, dev)
    mean = {c: (tuned[c] + learned[c]) / 2 for c in CRITERIA}
    result = {"n_scored": len(index), "epochs": args.epochs, "fold_seconds": fold_seconds,
              "settings": {"max_length": MAX_LENGTH, "context_words": CONTEXT_WORDS, "batch": BATCH,
                           "encoder_lr": ENCODER_LR, "head_lr": HEAD_LR, "warmup": WARMUP, "seed": SEED},
              "cv": {name: with_ci(p, y, src, groups, index)
                     for name, p in (("finetuned", tuned), ("learned", learned), ("mean", mean))},
              "seconds": round(time.perf_counter() - started, 1)}
    write_result(result, args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
