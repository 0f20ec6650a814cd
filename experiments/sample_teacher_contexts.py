"""Sample the embedded model on contexts where a real teacher answered, for the teacher-vs-model pairs (issue 36).

    nice -n 10 python experiments/sample_teacher_contexts.py --rate 16      # measure the rate first
    nice -n 10 python experiments/sample_teacher_contexts.py --limit 160    # the shipped file (resumes)

What it does, once (the result ships as src/socratic/datasets/teacher_pairs/, see its SOURCE.md):
1. every tutor turn of the TRAINING dialogues of `mathdial` and `debugging` (deduplicated, dedupe=True)
   that answers a student turn is a context (the turns before it) with the teacher's reply; contexts on
   a problem of any test split (mathdial, mathdial-raw: the problem; debugging, debugging-raw: the
   problem and the student's code, since the Debugging sets share their problem statements) are left
   out, and duplicate contexts are kept once;
2. a fixed, seeded subset (random.Random(0)) of N_MATHDIAL + N_DEBUGGING contexts is written as a JSONL
   of Dialogues, and `socratic generate` samples the embedded model k=2 times on each with the
   quickstart's settings (temperature 1.0, top_p 0.95, max_new_tokens 64, seed 0; through the shared
   cache, so a re-run costs nothing);
3. the dataset file: per context, the dialogue, the teacher's reply and the model's replies, where the
   context is one of `socratic.data.teacher_turns.load_teacher_turns()` (the project's own teacher turns:
   same exclusions, stricter for Debugging): its dialogue (with the GSM8K worked solution as reference) and
   its reply are the ones shipped; a sampled context it does not hold is left out and counted.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path

from socratic.data import load_dialogues
from socratic.data.overlap import content_key
from socratic.data.teacher_turns import load_teacher_turns
from socratic.judge.labels.human import group_key
from socratic.judge.labels.teacher_vs_model import TeacherPair
from socratic.records import Dialogue, LabelledReply
from socratic.store.jsonl import write_jsonl

# Sized so the job takes about 20 min on the 2-core EPYC: 16 contexts took 86 s (5.4 s each, k=2, under load).
N_MATHDIAL, N_DEBUGGING, K, SEED = 190, 90, 2, 0  # Debugging has only ~39 outside the test problems
SETTINGS = {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 64, "seed": SEED, "k": K}
WORK = Path("runs/teacher_pairs")
DATASET = Path("src/socratic/datasets/teacher_pairs/pairs.jsonl")


def problem_of(dialogue: Dialogue) -> str:
    return group_key(LabelledReply(dialogue=dialogue, reply=""))


def test_keys() -> set[str]:
    """Keys of every test problem: MathDial by problem, Debugging by problem and student code."""
    keys = {problem_of(d) for source in ("mathdial", "mathdial-raw") for d in load_dialogues(source, "test")}
    keys |= {d.context.strip() for source in ("debugging", "debugging-raw") for d in load_dialogues(source, "test")}
    return keys


def teacher_contexts(source: str, excluded: set[str]) -> list[tuple[Dialogue, str]]:
    """(context ending on a student turn, the teacher's reply to it), deduplicated, no test problem."""
    seen, out = set(), []
    for dialogue in load_dialogues(source, "train", dedupe=True):
        key = problem_of(dialogue) if source == "mathdial" else dialogue.context.strip()
        if key in excluded:
            continue
        for i, turn in enumerate(dialogue.turns):
            if turn.role != "tutor" or i == 0 or dialogue.turns[i - 1].role != "student":
                continue
            context = dialogue.model_copy(update={"id": f"{dialogue.id}@{i}", "turns": dialogue.turns[:i],
                                                  "meta": {"origin": dialogue.id, "turn": i}})
            key = content_key(context)
            if key not in seen:
                seen.add(key)
                out.append((context, turn.text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=None, help="sample the first N contexts only, write nothing")
    parser.add_argument("--limit", type=int, default=None, help="only the first N contexts of the seeded order")
    args = parser.parse_args()
    excluded = test_keys()
    chosen: list[tuple[Dialogue, str]] = []
    for source, n in (("mathdial", N_MATHDIAL), ("debugging", N_DEBUGGING)):
        pool = teacher_contexts(source, excluded)
        print(f"{source}: {len(pool)} teacher contexts outside the test problems; sampling {min(n, len(pool))}")
        chosen += random.Random(SEED).sample(pool, min(n, len(pool)))
    random.Random(SEED).shuffle(chosen)  # the two sources interleaved, so a --limit run holds both
    chosen = chosen[:args.rate or args.limit]
    WORK.mkdir(parents=True, exist_ok=True)
    contexts = WORK / "contexts.jsonl"
    contexts.write_text("".join(d.model_dump_json() + "\n" for d, _ in chosen))

    from socratic.preference import generate

    started = time.perf_counter()
    out = WORK / "samples.jsonl"
    generate.run(generate.GenerateConfig(dataset=str(contexts), split="train", dedupe=False, model="embedded",
                                         out=out, batch_dialogues=16, **SETTINGS))
    print(f"generation: {time.perf_counter() - started:.1f} s wall")
    if args.rate is not None:
        return
    samples: dict[str, list[str]] = {}
    for candidate in generate.load_candidates(out):
        samples.setdefault(candidate.dialogue.id, []).append(candidate.reply)
    # Keyed by the turn too: one opening message can be answered differently in two MathDial conversations.
    official = {(same_context(t.dialogue), t.reply.strip()): t for t in load_teacher_turns(("mathdial", "debugging"))}
    rows, left_out = [], Counter()
    for dialogue, teacher in chosen:
        turn = official.get((same_context(dialogue), teacher.strip()))
        if turn is None:
            left_out[dialogue.source] += 1
            continue
        rows.append(TeacherPair(dialogue=turn.dialogue, teacher=turn.reply, model="embedded",
                                samples=tuple(samples[dialogue.id])))
    write_jsonl(DATASET, rows)
    print(f"wrote {len(rows)} contexts to {DATASET} ({dict(Counter(r.dialogue.source for r in rows))}); left out, "
          f"not among load_teacher_turns: {dict(left_out)}")


def same_context(dialogue: Dialogue) -> tuple:
    return dialogue.context.strip(), tuple((t.role, t.text) for t in dialogue.turns)


if __name__ == "__main__":
    main()
