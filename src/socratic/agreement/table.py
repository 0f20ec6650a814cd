"""Terminal view of judge validation: one rich table with the judges side by side, the items where each
judge and the humans disagree most, and the paper's anchor. Input: the dict of `socratic.agreement.run`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from socratic.agreement.measure import BASELINE, BINARY, VERSUS
from socratic.scores import CRITERIA


def _f(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"{value if round(value, digits) else 0.0:.{digits}f}"  # no "-0.00"


def _corr(block: dict[str, Any]) -> str:
    text = _f(block["estimate"])
    if block.get("ci_low") is not None:
        text += f" [{_f(block['ci_low'])}, {_f(block['ci_high'])}]"
    return text


def _left_out(block: dict[str, Any]) -> str:
    lo = block["left_out"]
    parts = [f"{lo['missing_label']} unlabelled" if lo["missing_label"] else "",
             f"{lo['judge_failed']} judge failed" if lo["judge_failed"] else ""]
    extra = ", ".join(p for p in parts if p)
    return f"{block['n']}" + (f" ({extra})" if extra else "")


def _rows(judge: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric label, formatted value) rows for one judge, in table order."""
    rows: list[tuple[str, str]] = [("items judged", f"{judge['n_items'] - judge['failures']}/{judge['n_items']}")]
    for criterion in CRITERIA:
        c = judge["criteria"][criterion]
        rows.append((f"[bold]{criterion}[/] n", _left_out(c)))
        if criterion in BINARY:
            rows += [("  accuracy", _f(c["accuracy"])), ("  Cohen's kappa", _f(c["kappa"])),
                     ("  P / R / F1 (yes)", f"{_f(c['precision'])} / {_f(c['recall'])} / {_f(c['f1'])}"),
                     ("  yes rate human / judge", f"{_f(c['human_mean'])} / {_f(c['judge_mean'])}")]
        else:
            rows += [("  Pearson", _f(c["pearson"]["estimate"])), ("  Spearman", _f(c["spearman"]["estimate"])),
                     ("  quadratic kappa", _f(c["qwk"])), ("  MAE", _f(c["mae"])),
                     ("  mean human / judge", f"{_f(c['human_mean'])} / {_f(c['judge_mean'])}")]
    s = judge["summary"]
    rows += [("[bold]summary[/] n", _left_out(s)),
             ("  Pearson [95% CI]", _corr(s["pearson"])), ("  Spearman [95% CI]", _corr(s["spearman"])),
             ("  MAE", _f(s["mae"], 3)),
             ("  mean human / judge", f"{_f(s['human_mean'], 3)} / {_f(s['judge_mean'], 3)}")]
    return rows


def agreement_table(result: dict[str, Any]) -> Table:
    labels = result["labels"]
    table = Table(min_width=64, title=f"Judge vs human agreement: {labels['n_items']} items, "
                        f"{result['config']['formula']} formula")
    table.add_column("metric")
    for judge in result["judges"]:
        table.add_column(judge["spec"], justify="right")
    per_judge = [_rows(j) for j in result["judges"]]
    for i, (metric, _) in enumerate(per_judge[0] if per_judge else []):
        table.add_row(metric, *(rows[i][1] for rows in per_judge))
    return table


def disagreement_table(judge: dict[str, Any], width: int = 70) -> Table:
    table = Table(title=f"Largest disagreements: {judge['spec']} vs humans", show_lines=True)
    for name, justify in (("id", "left"), ("human", "right"), ("judge", "right"), ("diff", "right"),
                          ("criteria human -> judge", "left"), ("reply", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for d in judge["disagreements"]:
        differ = ", ".join(f"{c} {v['human']}->{v['judge']}" for c, v in d["differ"].items())
        reply = " ".join(d["reply"].split())
        table.add_row(d["id"], _f(d["human_summary"]), _f(d["judge_summary"]), f"{d['diff']:+.2f}", differ,
                      reply if len(reply) <= width else reply[: width - 1] + "…")
    return table


def _gain(block: dict[str, Any], name: str) -> str:
    if block["difference"] is None:
        return f"{name} n/a ({'; '.join(block['notes'])})"
    ci = "" if block["ci_low"] is None else f" [{block['ci_low']:+.2f}, {block['ci_high']:+.2f}]"
    verdict = f": {block['verdict']}" if block["verdict"] else ""
    return (f"{name} {_f(block['judge'])} vs {_f(block['baseline'])}, difference {block['difference']:+.2f}{ci}"
            f"{verdict}")


def versus_baseline_line(judge: dict[str, Any]) -> str:
    """One line: the judge against the '?' baseline on the same items, each difference with its CI."""
    versus = judge["versus_baseline"]
    parts = [_gain(versus[key], name) for key, name, _, _ in VERSUS if versus[key] is not None]
    return (f"{judge['spec']} vs the '?' baseline ({versus['baseline']}), same items: "
            + ("; ".join(parts) or "no label of this file can compare them"))


def ranking_lines(judge: dict[str, Any]) -> list[str]:
    """The pairwise accuracy and the dodge suite of one judge, as lines (empty when not measured)."""
    lines = []
    pairwise = judge.get("pairwise")
    if pairwise:
        ci = "" if pairwise["ci_low"] is None else f" [{_f(pairwise['ci_low'])}, {_f(pairwise['ci_high'])}]"
        lines.append(f"{judge['spec']}: within-conversation pairwise accuracy {_f(pairwise['accuracy'])}{ci} on "
                     f"{pairwise['n_pairs']} pairs of {pairwise['n_conversations']} conversations")
    suite = judge.get("dodge_suite")
    if suite and suite["families"]:
        parts = [f"{name} {_f(block['win_rate'])}" for name, block in suite["families"].items()]
        verdict = "meets" if suite["all_families_meet_target"] else f"misses (worst: {suite['worst_family']})"
        lines.append(f"{judge['spec']}: dodge suite, honest wins by >= {suite['margin']:.2f} (eval phrasings): "
                     f"{', '.join(parts)}; {verdict} the {suite['target']:.0%} target")
    return lines


def teacher_lines(judge: dict[str, Any]) -> list[str]:
    """Teacher-vs-model accuracy and the perturbation flips of one judge (empty when not measured)."""
    block = judge.get("teacher")
    if not block or not block.get("pairs"):
        return []
    accuracy = block["accuracy"]
    ci = "" if accuracy["ci_low"] is None else f" [{_f(accuracy['ci_low'])}, {_f(accuracy['ci_high'])}]"
    lines = [(f"{judge['spec']}: prefers the teacher's turn to the model's in {_f(accuracy['accuracy'])}{ci} of "
              f"{accuracy['n']} comparisons ({block['pairs']} contexts of training dialogues; target "
              f"{accuracy['target']:.0%}; {block['protocol']})")]
    flips = block["perturbations"]
    parts = [f"{kind} {_f(sides['teacher']['rate'])}/{_f(sides['model']['rate'])}"
             for kind, sides in flips["kinds"].items()]
    verdict = "meets" if flips["meets_target"] else "misses"
    lines.append(f"{judge['spec']}: preference flips when the teacher's/the model's reply is perturbed: "
                 f"{', '.join(parts)}; worst {_f(flips['worst_rate'])}, {verdict} the {flips['target']:.0%} target")
    return lines


def print_agreement(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    console.print(agreement_table(result))
    for judge in result["judges"]:
        protocol = judge.get("protocol")
        if protocol:
            style = "green" if protocol["out_of_sample"] else "yellow"
            console.print(f"[{style}]{judge['spec']}: {protocol['note']}[/]", highlight=False)
        if judge["disagreements"] and judge["spec"] != BASELINE:
            console.print(disagreement_table(judge))
        for failure in judge["failure_examples"]:
            console.print(f"[yellow]{judge['spec']} failed on {failure['id']}:[/] {failure['error']}")
        notes = sorted({f"{name}: {note}" for name, block in {**judge["criteria"], "summary": judge["summary"]}.items()
                        for note in block["notes"]})
        for note in notes:
            console.print(f"[dim]note ({judge['spec']}) {note}[/]")
    for judge in result["judges"]:
        for line in ranking_lines(judge) + teacher_lines(judge):
            console.print(line, highlight=False)
    for judge in result["judges"]:
        if "versus_baseline" in judge:
            console.print(versus_baseline_line(judge), highlight=False)
    anchor = result["anchor"]
    ours = ", ".join(f"{j['spec']} {_corr(j['summary']['pearson'])} (n={j['summary']['n']})"
                     for j in result["judges"])
    console.print(f"Published anchor: {anchor['judge']} judge vs humans Pearson {anchor['pearson']:.2f} on "
                  f"{anchor['n']} {anchor['dataset']} items (the paper; {anchor['note']}). Here: {ours}.")
    if result.get("figures"):
        console.print(f"Wrote agreement.json and {', '.join(result['figures'])} to {result['config']['out']}")
