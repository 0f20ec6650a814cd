"""The report renders from stage outputs: HTML parses, figures are embedded, expected sections present."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fakes.data import dialogues
from fakes.judges import FakeJudge
from socratic.agreement import measure as agreement
from socratic.backends import FakeBackend
from socratic.evaluate import evaluation as evaluate
from socratic.report import build_report


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.ids, self.links, self.text = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag in ("link", "script") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def run_folder(tmp_path, monkeypatch, shared_data) -> Path:
    """A run folder as `socratic run` leaves it, made with fakes: eval, a trained model's metrics,
    training-pair judgments, agreement with human labels, timings."""
    root = tmp_path / "run"
    model_dir = root / "models" / "mathdial"
    model_dir.mkdir(parents=True)
    (model_dir / "metrics.jsonl").write_text("".join(
        json.dumps({"step": i, "loss": 0.69 - 0.04 * i, "rewards/margins": 0.1 * i}) + "\n" for i in range(1, 9)))
    (model_dir / "train_summary.json").write_text(json.dumps(
        {"steps": 8, "train_loss": 0.52, "seconds_per_step": 11.5, "warnings": ["accuracy_saturated"]}))
    prefs = root / "prefs" / "mathdial"
    prefs.mkdir(parents=True)
    (prefs / "judgments.jsonl").write_text(json.dumps({"judge": "rubric-for-pairs", "reply": "x"}) + "\n")
    (prefs / "pairs.jsonl").write_text(json.dumps({"chosen_score": 0.9, "rejected_score": 0.3}) + "\n")

    backends = {
        "fake:base": FakeBackend(responder=lambda m, o: "The answer is 12." if "1" in m[-1]["content"]
                                 else "Let us <b>see</b> | what?", spec="fake:base"),
        f"hf:{model_dir}": FakeBackend(["What do you think the first step is?"], spec="tuned"),
    }
    judge = FakeJudge("rubric")
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: judge)
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues(source, 8))
    evaluate.run(evaluate.EvaluateConfig(
        models={"base": "fake:base", "tuned-mathdial": f"hf:{model_dir}"}, datasets=["mathdial", "debugging"],
        judges=["rubric"], training_judge="rubric", trained_on={"tuned-mathdial": "mathdial"},
        out=root / "eval", n_resamples=300))

    monkeypatch.setattr(agreement, "_load_judge", lambda spec, cache: judge)
    agreement.run(agreement.AgreementConfig(labels=shared_data / "socratic_llm" / "mathdial_human_eval_dev.json",
                                            judges=["rubric"], out=root / "agreement", bootstrap=200))
    (root / "timings.json").write_text(json.dumps({"started_at": "2026-01-01T00:00:00", "total_wall_s": 61.0,
        "stages": {"generate:mathdial": {"status": "ran", "wall_s": 40.5, "peak_rss_mb": 1200.0},
                   "evaluate": {"status": "skipped", "last_wall_s": 20.5, "last_peak_rss_mb": 900.0}}}))
    (root / "config.resolved.yaml").write_text("name: test\nmodel: embedded\n")
    return root


def test_report_html_is_self_contained_with_all_sections(run_folder):
    html_path, _md_path = build_report(run_folder, title="Test run")
    page = Collector()
    page.feed(html_path.read_text("utf-8"))
    page.close()
    # summary bars, criteria bars, cross heatmap, training curves, agreement scatter, timings
    assert len(page.images) == 6
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.links == []  # nothing to fetch: opens offline
    assert {"summary", "paired", "cross", "criteria", "judges", "changes", "examples", "training", "agreement",
            "timings", "caveats"} <= page.ids
    text = " ".join(page.text)
    assert "gaming its reward" in text  # the training judge also judged the evaluation
    assert "ranked the training candidates (mathdial)" in text and "rubric-for-pairs" in text
    assert "What do you think the first step is?" in text and "The answer is 12." in text  # side by side
    assert "tuned-mathdial (trained on mathdial)" in text
    assert "Small test slices" in text  # honest caveat on n=8
    assert "learnt from only 1 preference pair (the paper" in text
    assert "0.82" in text and "Phi-3-mini" in text  # the paper's anchors
    assert "accuracy_saturated" in text and "generate:mathdial" in text
    assert "<b>see</b>" in text  # model text is escaped, not interpreted as markup
    assert "name: test" in text


def test_report_markdown_links_figure_files(run_folder):
    _, md_path = build_report(run_folder)
    markdown = md_path.read_text("utf-8")
    figures = [line.split("](", 1)[1].rstrip(")") for line in markdown.splitlines() if line.startswith("![")]
    assert len(figures) == 6
    for name in figures:
        assert (md_path.parent / name).read_bytes()[:4] == b"\x89PNG"
    assert "| base |" in markdown and "## Cross-dataset table" in markdown
    assert "\\|" in markdown  # a '|' inside a reply does not break the table


def test_report_from_an_evaluate_folder_alone(tmp_path, monkeypatch):
    backends = {"fake:a": FakeBackend(["The answer is 3."], spec="a"), "fake:b": FakeBackend(["Why?"], spec="b")}
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: backends[spec])
    monkeypatch.setattr(evaluate, "_load_judge", lambda spec, cache: FakeJudge("rubric"))
    monkeypatch.setattr(evaluate, "_load_dialogues", lambda source, split: dialogues(source, 3))
    out = tmp_path / "eval-only"
    evaluate.run(evaluate.EvaluateConfig(models={"a": "fake:a", "b": "fake:b"}, datasets=["tutorchat"],
                                         judges=["rubric"], out=out, n_resamples=200))
    html_path, _ = build_report(out)
    page = Collector()
    page.feed(html_path.read_text("utf-8"))
    assert len(page.images) == 2  # summary and criteria only: no training, agreement, timings, cross
    assert "cross" not in page.ids and "training" not in page.ids


def test_report_without_evaluation_is_a_clear_error(tmp_path):
    from socratic.errors import SocraticError

    with pytest.raises(SocraticError, match="no evaluation.json"):
        build_report(tmp_path)


def test_clip_keeps_the_start_and_the_end():
    from socratic.report.text import clip

    assert clip("short", 10) == "short"
    text = "The problem: " + "x" * 200 + " So is it 12?"
    clipped = clip(text, 60)
    assert clipped.startswith("The problem:") and clipped.endswith("So is it 12?") and " … " in clipped
    assert len(clipped) <= 62


def test_training_lists_the_warm_up_and_every_round_with_its_own_pairs(tmp_path):
    from types import SimpleNamespace

    from socratic.report.run_sections import training_section

    root = tmp_path / "run"
    for folder, loss in (("mathdial-sft", 1.6), ("mathdial", 0.6), ("mathdial-round2", 0.4)):
        (root / "models" / folder).mkdir(parents=True)
        (root / "models" / folder / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": loss}) + "\n")
        (root / "models" / folder / "train_summary.json").write_text(json.dumps({"steps": 1, "train_loss": loss}))
    for prefs, n in ((root / "prefs" / "mathdial", 2), (root / "prefs" / "mathdial" / "round2", 3)):
        prefs.mkdir(parents=True, exist_ok=True)
        pair = json.dumps({"chosen_score": 0.9, "rejected_score": 0.2}) + "\n"
        (prefs / "pairs.jsonl").write_text(pair * n)
    models = [SimpleNamespace(name="base", spec="embedded", trained_on=None),
              SimpleNamespace(name="tuned-mathdial", spec=f"hf:{root / 'models' / 'mathdial-round2'}",
                              trained_on="mathdial")]
    section = training_section(SimpleNamespace(models=models), root)
    assert [(r["model"], r["pairs"], r["train_loss"]) for r in section["rows"]] == [
        ("tuned-mathdial · SFT warm-up", 2, 1.6), ("tuned-mathdial · DPO round 1", 2, 0.6),
        ("tuned-mathdial · DPO round 2", 3, 0.4)]

    # A model folder outside a run's models/ (socratic evaluate on any hf: folder): that folder alone.
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    (elsewhere / "train_summary.json").write_text(json.dumps({"steps": 5, "train_loss": 0.5}))
    models[1].spec = f"hf:{elsewhere}"
    assert [r["model"] for r in training_section(SimpleNamespace(models=models), root)["rows"]] == ["tuned-mathdial"]


def test_both_formats_of_a_run_report_carry_the_same_sections_in_the_same_order(run_folder):
    """The sections are built once: Markdown and HTML cannot drift apart (they did, as two templates)."""
    import re

    html_path, md_path = build_report(run_folder)
    markdown = re.sub(r"^(`{3,})\w*\n.*?^\1$", "", md_path.read_text("utf-8"), flags=re.MULTILINE | re.DOTALL)
    in_markdown = [(len(m.group(1)), m.group(2).replace("`", ""))
                   for m in re.finditer(r"^(#{1,6}) (.*)$", markdown, flags=re.MULTILINE)]

    class Headings(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found: list[list] = []
            self.inside = False

        def handle_starttag(self, tag, attrs):
            if re.fullmatch(r"h[1-6]", tag):
                self.found.append([int(tag[1]), ""])
                self.inside = True

        def handle_endtag(self, tag):
            if re.fullmatch(r"h[1-6]", tag):
                self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.found[-1][1] += data

    page = Headings()
    page.feed(html_path.read_text("utf-8"))
    in_html = [tuple(h) for h in page.found]
    assert in_markdown == in_html
    assert [t for level, t in in_html if level == 2] == [
        "Models", "Summary score per model and test set", "Judges side by side: lift over base",
        "Paired tests against base", "Cross-dataset table: trained on X, tested on Y", "Per-criterion breakdown",
        "Who judged what", "Form vs content: how replies changed against base", "Gaming and collapse checks",
        "Tutoring, judge-free", "Example dialogues", "Training", "Judge vs human labels", "Timings", "Caveats",
        "Configuration"]
