"""The report's example dialogues: per test set, the items where the compared model gained most and least
over the baseline, with both replies side by side. Pure: evaluation.json, replies and judgments in, the
report's section out.

    section = examples_section(evaluation, replies, judgments, per_dataset=2)
"""

from __future__ import annotations

from socratic.evaluate.result import Evaluation
from socratic.report.document import Code, Exchange, Paragraph, Section
from socratic.report.text import clip
from socratic.scores import Judgment, judgment_summary


def example_dialogues(evaluation: Evaluation, replies: list[dict], judgments: list[dict],
                      per_dataset: int) -> list[dict]:
    """Per test set: the items where the compared model gained most and least over the baseline.

    The compared model is the one trained on that test set's dataset (else the second model), so the
    examples show in-domain tuning; picking both ends keeps them honest.
    """
    if per_dataset <= 0 or len(evaluation.models) < 2:
        return []
    judge, formula = evaluation.judges[0], evaluation.formula
    baseline = evaluation.models[0].name
    score = {(j["meta"]["model"], j["meta"]["dataset"], j["dialogue"]["id"]):
             judgment_summary(Judgment.model_validate(j), formula)
             for j in judgments if j["judge"] == judge and j.get("scores")}
    by_reply = {(r["model"], r["dataset"], r["dialogue"]["id"]): r for r in replies}
    out = []
    for dataset in evaluation.datasets:
        in_domain = [m.name for m in evaluation.models if m.trained_on == dataset]
        other = in_domain[0] if in_domain else evaluation.models[1].name
        scored = sorted(((score[(other, d, i)] - score[(m, d, i)], i) for (m, d, i) in by_reply
                         if m == baseline and d == dataset and (m, d, i) in score and (other, d, i) in score
                         and (other, d, i) in by_reply), key=lambda t: (-t[0], t[1]))
        picks, low, high = [], 0, len(scored) - 1
        while len(picks) < min(per_dataset, len(scored)):
            picks.append((scored[low], ("largest gain" if scored[low][0] > 0 else "no gain") if low == 0 else ""))
            low += 1
            if len(picks) < per_dataset and high >= low:
                gain = scored[high][0]
                picks.append((scored[high], "largest drop" if gain < 0 else "smallest gain"))
                high -= 1
        for (gain, i), label in picks:
            dialogue = by_reply[(baseline, dataset, i)]["dialogue"]
            out.append({
                "dataset": dataset, "id": i, "gain": f"{gain:+.2f}", "label": label,
                "context": clip(dialogue.get("context"), 500),
                "turns": [{"role": t["role"], "text": clip(t["text"], 400)} for t in dialogue["turns"][-3:]],
                "replies": [{"model": m, "text": clip(by_reply[(m, dataset, i)]["reply"]) or "(empty reply)",
                             "summary": f"{score[(m, dataset, i)]:.2f}"} for m in (baseline, other)],
            })
    return out


def examples_section(evaluation: Evaluation, replies: list[dict], judgments: list[dict],
                     per_dataset: int) -> Section:
    blocks: list = [Paragraph("Per test set, the items where the tuned model gained most and least (summary score, "
                              f"judge {evaluation.judges[0]}).")]
    examples = example_dialogues(evaluation, replies, judgments, per_dataset)
    for e in examples:
        blocks.append(Section([f"{e['dataset']} · ", Code(e["id"]), f" · {e['label']} ({e['gain']})"], [Exchange(
            e["context"], [(t["role"], t["text"]) for t in e["turns"]],
            [(f"{r['model']} (summary {r['summary']})", r["text"]) for r in e["replies"]])]))
    if not examples:
        blocks.append(Paragraph("No examples (one model only)."))
    return Section("Example dialogues", blocks, anchor="examples", short="Examples")
