"""Build report.html (self-contained, figures inlined as base64 PNG) and report.md (figures as files).

    socratic report runs/quickstart           # a `socratic run` folder
    socratic report runs/eval-only            # or a `socratic evaluate -o` folder

Everything is read from files the stages wrote (eval/evaluation.json and replies.jsonl, models/*/
metrics.jsonl and train_summary.json, prefs/*/pairs.jsonl, agreement/agreement.json, timings.json,
config.resolved.yaml); whatever is absent is left out of the report, nothing is recomputed.
The sections are built once, as a socratic.report.document.Document (`build_document`), by the modules
that hold their numbers, and written twice: socratic.report.to_markdown and socratic.report.to_html.
"""

from __future__ import annotations

import base64
import statistics
import time
from pathlib import Path

from socratic.errors import SocraticError
from socratic.evaluate.result import Evaluation
from socratic.report.checks import checks_section
from socratic.report.document import BulletList, CodeBlock, Details, Document, Section, prose
from socratic.report.examples import examples_section
from socratic.report.lifts import independence_flags, lifts_section
from socratic.report.overview import (
    changes_section,
    criteria_section,
    cross_section,
    judges_section,
    models_section,
    paired_section,
    summary_section,
)
from socratic.report.run_sections import (
    agreement_section,
    read_lines,
    timings_section,
    training_report,
    training_section,
)
from socratic.report.teacher import teacher_section
from socratic.report.to_html import to_html
from socratic.report.to_markdown import to_markdown
from socratic.report.tutoring import pressure_section, tutoring_flags, tutoring_section
from socratic.store.jsonl import iter_json_lines, write_text
from socratic.store.run_folder import EVAL


def _eval_dir(root: Path) -> Path:
    for candidate in (root / EVAL, root):
        if (candidate / "evaluation.json").exists():
            return candidate
    raise SocraticError(f"{root}: no evaluation.json (in {root / EVAL} or {root}); run the evaluation first")


def training_judges(root: Path, evaluation: Evaluation) -> list[dict[str, str]]:
    found = []
    for path in sorted((root / "prefs").glob("*/judgments.jsonl")):
        first = next(iter_json_lines(path, tolerate_torn_tail=True), None)
        judges = {first[1].get("judge", "?")} if first else set()
        found.append({"dataset": path.parent.name, "judge": ", ".join(sorted(judges)) or "?"})
    if not found and evaluation.training_judge:
        found.append({"dataset": "(all)", "judge": evaluation.training_judge})
    return found


def caveats(evaluation: Evaluation, agreement: bool, training: dict | None = None,
            lift_flags: list[str] | None = None, check_flags: list[str] | None = None) -> list[str]:
    notes = [f"Judges do not agree: {flag}." for flag in lift_flags or []]
    notes += [f"Not an independent judge: {flag}." for flag in independence_flags(evaluation)]
    notes += [f"Gaming or collapse check: {flag}." for flag in check_flags or []]
    notes += [f"Tutoring, judge-free: {flag}." for flag in tutoring_flags(evaluation)]
    pairs = [r["pairs"] for r in (training or {}).get("rows", []) if isinstance(r.get("pairs"), int)]
    if pairs and max(pairs) < 100:
        span = str(min(pairs)) if min(pairs) == max(pairs) else f"{min(pairs)}–{max(pairs)}"
        plural = "s" if max(pairs) > 1 else ""
        notes.append(f"Each training step (DPO round, warm-up) learnt from only {span} preference pair{plural} "
                     "(the paper used hundreds per dataset): a lift that is not significant here says little about "
                     "the method; configs/cpu.yaml and configs/paper.yaml are larger setups.")
    ns = [r.judged for r in evaluation.results if r.judged]
    widths = [r.summary.high - r.summary.low for r in evaluation.results if r.summary.mean is not None]
    if ns and min(ns) < 50:
        n_text = str(min(ns)) if min(ns) == max(ns) else f"{min(ns)}–{max(ns)}"
        notes.append(f"Small test slices (n = {n_text} judged replies per cell): the 95% CIs are "
                     f"{statistics.median(widths):.2f} wide (median), so differences smaller than that are not "
                     "evidence. Use larger test limits for conclusions.")
    if "rubric" in evaluation.judges:
        notes.append("The rubric judge is offline and automatic (question detection, answer-leak check, embedding "
                     "similarity), not the paper's GPT-4o; "
                     + ("see its measured agreement with human labels below." if agreement else
                        "its agreement with human labels was not measured in this run (set labels in the config)."))
    notes += evaluation.warnings
    failed = sum(r.failed for r in evaluation.results)
    if failed:
        notes.append(f"{failed} judgments failed and are excluded from the means (counted per cell in the tables).")
    if any(m.spec == "embedded" for m in evaluation.models):
        notes.append("The embedded base model is SmolLM2-135M-Instruct, about 30x smaller than the paper's "
                     "Phi-3-mini: its absolute scores are not comparable to the paper's anchors, only the "
                     "direction of the change is.")
    notes.append(f"Replies are greedy and capped at {evaluation.config.get('max_new_tokens')} new tokens; "
                 "a cut-off reply is judged as it is.")
    return notes


# ------------------------------------------------------------------------------------- build

def build_document(root: Path, evaluation: Evaluation, replies: list[dict], judgments: list[dict], *, title: str,
                   examples_per_dataset: int, pngs: dict[str, bytes]) -> Document:
    """Every section of the report, in reading order; the figures they show are drawn into `pngs`."""
    rankers = training_judges(root, evaluation)
    # The reward judge: as evaluation.json names it, else the one judge every training pair was ranked by.
    reward = evaluation.training_judge or (rankers[0]["judge"] if len({t["judge"] for t in rankers}) == 1 else None)
    lifts, lift_flags = lifts_section(evaluation, reward)
    checks, check_flags = checks_section(evaluation)
    training = training_section(evaluation, root)
    agreement = agreement_section(root, pngs)
    config_path = root / "config.resolved.yaml"
    config = None
    if config_path.exists():
        config = Section("Configuration", [Details("config.resolved.yaml",
                                                   [CodeBlock(config_path.read_text("utf-8"), "yaml")])])
    sections = [
        models_section(evaluation),
        teacher_section(evaluation, reward),
        summary_section(evaluation, pngs),
        lifts,
        paired_section(evaluation),
        cross_section(evaluation, pngs),
        criteria_section(evaluation, pngs),
        judges_section(evaluation, rankers),
        changes_section(evaluation),
        checks,
        tutoring_section(evaluation),
        pressure_section(evaluation),
        examples_section(evaluation, replies, judgments, examples_per_dataset),
        training_report(training, pngs),
        agreement,
        timings_section(root, pngs),
        Section("Caveats", [BulletList(caveats(evaluation, agreement is not None, training, lift_flags,
                                                   check_flags))], anchor="caveats", short="Caveats"),
        config,
    ]
    intro = prose("Generated {when} by `socratic`. Summary score formula: **{formula}** (the reference formula is "
                  "also\nreported for comparison with the paper). Test split: {split}.",
                  when=time.strftime("%Y-%m-%d %H:%M"), formula=evaluation.formula, split=evaluation.split)
    return Document(title, intro, [s for s in sections if s is not None])


def build_report(root: str | Path, *, title: str = "Socratic tutor evaluation", examples_per_dataset: int = 2,
                 out_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Write report.html and report.md (+ report_files/) into out_dir (default root); returns both paths."""
    root = Path(root).resolve()
    out = Path(out_dir).resolve() if out_dir else root
    eval_dir = _eval_dir(root)
    evaluation = Evaluation.read(eval_dir / "evaluation.json")
    replies, judgments = read_lines(eval_dir / "replies.jsonl"), read_lines(eval_dir / "judgments.jsonl")
    pngs: dict[str, bytes] = {}
    document = build_document(root, evaluation, replies, judgments, title=title,
                              examples_per_dataset=examples_per_dataset, pngs=pngs)
    files = out / "report_files"
    files.mkdir(parents=True, exist_ok=True)
    for name, data in pngs.items():
        (files / f"{name}.png").write_bytes(data)
    html_path, md_path = out / "report.html", out / "report.md"
    write_text(html_path, to_html(document, lambda name: "data:image/png;base64,"
                                  + base64.b64encode(pngs[name]).decode("ascii")))
    write_text(md_path, to_markdown(document, lambda name: f"report_files/{name}.png"))
    return html_path, md_path
