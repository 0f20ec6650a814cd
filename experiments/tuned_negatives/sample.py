"""Sample a tuned tutor on the contexts of the shipped teacher-vs-model pairs (the negatives of README.md).

    nice -n 10 python experiments/tuned_negatives/sample.py --model hf:runs/quickstart/models/mathdial \
        --name "quickstart tuned MathDial model (runs/quickstart, 3720c98)"

The contexts, the teacher's turns and the sampling settings are those of the shipped pairs
(src/socratic/datasets/teacher_pairs, made by experiments/sample_teacher_contexts.py: temperature 1.0, top_p 0.95,
max_new_tokens 64, seed 0, the default system prompt); only the model and k differ. Writes tuned_pairs.jsonl here,
one `TeacherPair` per context, its `model` the --name given. Resumes through the generation cache.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from socratic.judge.labels.teacher_vs_model import TeacherPair, load_teacher_pairs
from socratic.store.jsonl import write_jsonl

HERE = Path(__file__).resolve().parent
SETTINGS = {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 64, "seed": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the tuned model's spec, e.g. hf:runs/quickstart/models/mathdial")
    parser.add_argument("--name", required=True, help="what the pairs' `model` field says")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path("runs/tuned_negatives"))
    parser.add_argument("--out", type=Path, default=HERE / "tuned_pairs.jsonl")
    args = parser.parse_args()
    pairs = load_teacher_pairs()
    args.work.mkdir(parents=True, exist_ok=True)
    contexts = args.work / "contexts.jsonl"
    # The pair's index as the id: two pairs may share a dialogue id (one conversation, two turns).
    contexts.write_text("".join(p.dialogue.model_copy(update={"id": f"pair-{n}"}).model_dump_json() + "\n"
                                for n, p in enumerate(pairs)))

    from socratic.preference import generate

    started = time.perf_counter()
    out = args.work / "samples.jsonl"
    generate.run(generate.GenerateConfig(dataset=str(contexts), split="train", dedupe=False, model=args.model,
                                         out=out, batch_dialogues=16, k=args.k, **SETTINGS))
    print(f"generation: {time.perf_counter() - started:.1f} s wall")
    samples: dict[str, list[str]] = {}
    for candidate in generate.load_candidates(out):
        samples.setdefault(candidate.dialogue.id, []).append(candidate.reply)
    rows = [TeacherPair(dialogue=p.dialogue, teacher=p.teacher, model=args.name, samples=tuple(samples[f"pair-{n}"]))
            for n, p in enumerate(pairs)]
    write_jsonl(args.out, rows)
    print(f"wrote {len(rows)} contexts, {sum(len(r.samples) for r in rows)} samples, to {args.out}")


if __name__ == "__main__":
    main()
