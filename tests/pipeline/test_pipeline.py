"""`socratic run`: stage skipping, --force, resume, --dry-run, config validation, the cross table.

Skip/force logic is tested on the stage runner with counting fake stages, and on the whole pipeline
with fake models, judge and trainer; one slow test runs a tiny real config end to end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from fakes.judges import FakeJudge
from socratic import pipeline
from socratic.backends import FakeBackend
from socratic.errors import ConfigError, SocraticError
from socratic.evaluate import evaluation as evaluate
from socratic.pipeline.runner import Runner, Stage, private_mb
from socratic.records import Dialogue
from socratic.store.cache import content_key
from socratic.store.jsonl import read_jsonl, write_jsonl

# ------------------------------------------------------------------------------------- stage runner


def make_stages(root: Path, calls: list[str], settings: dict) -> list[Stage]:
    """a -> b: a writes a.txt from settings['a']; b copies it to b.txt."""
    def a(fresh):
        calls.append(f"a fresh={fresh}")
        (root / "a.txt").write_text(settings["a"])

    def b(fresh):
        calls.append(f"b fresh={fresh}")
        (root / "b.txt").write_text((root / "a.txt").read_text() + "!")

    return [Stage("make:a", {"a": settings["a"], "tag": settings.get("tag", 0)}, a, outputs=[root / "a.txt"]),
            Stage("copy", {"b": 1}, b, inputs=[root / "a.txt"], outputs=[root / "b.txt"], upstream=["make:a"])]


def execute(root, calls, settings, force=()):
    return Runner(root, make_stages(root, calls, settings), force).execute(root / "timings.json")


def test_runner_runs_then_skips(tmp_path):
    calls, settings = [], {"a": "x"}
    first = execute(tmp_path, calls, settings)
    assert calls == ["a fresh=True", "b fresh=True"]
    assert first.stages["copy"].status == "ran" and first.stages["copy"].wall_s >= 0
    assert first.stages["copy"].peak_rss_mb > 0
    second = execute(tmp_path, calls, settings)
    assert calls == ["a fresh=True", "b fresh=True"]
    assert {s.status for s in second.stages.values()} == {"skipped"}
    assert json.loads((tmp_path / "timings.json").read_text())["stages"]["copy"]["status"] == "skipped"


def write_in_own_process(path: Path, text: str) -> None:
    path.write_text(f"{text} from process {os.getpid()}")


def test_a_stage_that_loads_a_model_runs_in_a_process_of_its_own(tmp_path):
    from socratic.pipeline import own_process

    out = tmp_path / "out.txt"
    ran_here = []
    stage = Stage("generate:x", {"k": 1}, lambda fresh: ran_here.append(fresh), outputs=[out], own_process=True)
    elsewhere = lambda name, fresh: own_process.run(write_in_own_process, out, f"{name} fresh={fresh}")
    timings = Runner(tmp_path, [stage], own_process=elsewhere).execute(tmp_path / "timings.json")
    assert ran_here == [] and out.read_text().startswith("generate:x fresh=True from process ")
    assert int(out.read_text().split()[-1]) != os.getpid()
    # The child's peak plus this process's resident set: both are in memory meanwhile.
    assert timings.stages["generate:x"].peak_rss_mb > private_mb() > 0
    assert Runner(tmp_path, [stage], own_process=elsewhere).plan()[0].run is False  # its manifest was written here


def test_runner_lets_go_of_the_models_a_stage_loaded(tmp_path):
    # A model a stage loads must not stay in memory through the later stages (training included).
    from socratic.backends import load_backend

    seen = []
    stages = [Stage(f"sample:{n}", {}, lambda fresh: seen.append(load_backend("fake:What is 3 x 4?")),
                    outputs=[]) for n in (1, 2)]
    Runner(tmp_path, stages).execute(tmp_path / "timings.json")
    assert len(seen) == 2 and seen[0] is not seen[1]  # loaded anew by the second stage, not kept


def test_runner_config_change_reruns_downstream_only_if_output_changed(tmp_path):
    calls, settings = [], {"a": "x"}
    execute(tmp_path, calls, settings)
    calls.clear()
    # a's config changes but it writes the same bytes: b's input is unchanged, b is skipped.
    execute(tmp_path, calls, {"a": "x", "tag": 1})
    assert calls == ["a fresh=True"]
    calls.clear()
    execute(tmp_path, calls, {"a": "y", "tag": 1})
    assert calls == ["a fresh=True", "b fresh=True"]
    assert (tmp_path / "b.txt").read_text() == "y!"


def test_runner_force_by_name_and_by_kind(tmp_path):
    calls, settings = [], {"a": "x"}
    execute(tmp_path, calls, settings)
    calls.clear()
    execute(tmp_path, calls, settings, force=["copy"])
    assert calls == ["b fresh=True"]
    calls.clear()
    execute(tmp_path, calls, settings, force=["make"])  # every make:* stage
    assert calls == ["a fresh=True"]
    with pytest.raises(ConfigError, match="no such stage"):
        Runner(tmp_path, make_stages(tmp_path, calls, settings), ["trian"])


def test_runner_reruns_when_output_missing_or_input_edited(tmp_path):
    calls, settings = [], {"a": "x"}
    execute(tmp_path, calls, settings)
    calls.clear()
    (tmp_path / "b.txt").unlink()
    execute(tmp_path, calls, settings)
    assert calls == ["b fresh=True"]
    calls.clear()
    (tmp_path / "a.txt").write_text("edited by hand")
    decisions = Runner(tmp_path, make_stages(tmp_path, calls, settings)).plan()
    assert [d.run for d in decisions] == [False, True] and "input changed (a.txt)" in decisions[1].reason


def test_runner_resumes_an_interrupted_stage(tmp_path):
    calls, settings = [], {"a": "x"}
    stages = make_stages(tmp_path, calls, settings)

    def crash(fresh):
        calls.append(f"b fresh={fresh}")
        raise KeyboardInterrupt

    broken = [stages[0], Stage("copy", stages[1].config, crash, inputs=stages[1].inputs,
                               outputs=stages[1].outputs, upstream=["make:a"])]
    with pytest.raises(KeyboardInterrupt):
        Runner(tmp_path, broken).execute(tmp_path / "timings.json")
    calls.clear()
    decisions = Runner(tmp_path, stages).plan()
    assert (decisions[1].run, decisions[1].fresh, decisions[1].reason) == (True, False, "resuming an interrupted run")
    execute(tmp_path, calls, settings)
    assert calls == ["b fresh=False"]  # continues, does not start afresh
    # A changed config after an interruption starts afresh instead.


def test_plan_runs_nothing(tmp_path):
    calls = []
    decisions = Runner(tmp_path, make_stages(tmp_path, calls, {"a": "x"})).plan()
    assert [(d.stage, d.run, d.reason) for d in decisions] == [("make:a", True, "no previous run"),
                                                              ("copy", True, "no previous run")]
    assert calls == [] and not (tmp_path / ".stages").exists()


# ------------------------------------------------------------------------------------- the pipeline with fakes

def tiny_config(tmp_path: Path, **overrides) -> dict:
    config = {
        "name": "tiny", "out": str(tmp_path / "run"), "model": "embedded", "seed": 0,
        "datasets": {"train": [{"source": "mathdial", "limit": 2}, {"source": "debugging", "limit": 2}],
                     "test": [{"source": "mathdial", "limit": 2}, {"source": "debugging", "limit": 2}]},
        "generate": {"k": 2, "max_new_tokens": 8}, "reward_judge": "rubric", "eval_judges": ["rubric"],
        "pairs": {"min_chosen_score": 0.0, "min_margin": 0.0},
        "training": {"max_steps": 1, "batch_size": 1, "grad_accum": 1},
        "evaluation": {"max_new_tokens": 8, "n_resamples": 200},
        "report_examples": 1,
    }
    config.update(overrides)
    return config


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def fake_stages(monkeypatch):
    """Fake candidate generator, judge and trainer; evaluation backends by spec. Returns a call log."""
    from socratic.preference import generate
    from socratic.train import dpo as train
    from socratic.train import sft

    log = {"train": [], "generate": 0, "weights": b"v1"}

    def candidates(messages, options):
        log["generate"] += 1
        return "What do you think?" if log["generate"] % 2 else "The answer is 4."

    monkeypatch.setattr(generate, "load_backend", lambda spec: FakeBackend(responder=candidates, spec=spec))
    monkeypatch.setattr("socratic.judge.load_judge", lambda spec, **kw: FakeJudge(spec))

    def fake_train(config):
        # A warm-up (sft.run) and a DPO run (train.run) leave the same kind of model folder.
        log["train"].append((config.out.name, getattr(config, "resume", "sft")))
        config.out.mkdir(parents=True, exist_ok=True)
        (config.out / "model.safetensors").write_bytes(log["weights"])
        (config.out / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 0.6}) + "\n")
        (config.out / "train_summary.json").write_text(json.dumps({"steps": 1, "train_loss": 0.6}))
        return config.out

    monkeypatch.setattr(train, "run", fake_train)
    monkeypatch.setattr(sft, "run", fake_train)
    monkeypatch.setattr(evaluate, "load_backend", lambda spec: FakeBackend(
        ["The answer is 4."] if spec == "embedded" else
        [f"Which step first? ({Path(spec).name} {log['weights'].decode()})"], spec=spec))
    return log


def test_pipeline_runs_every_stage_then_skips_then_forces(tmp_path, fake_stages):
    config = pipeline.load(write_config(tmp_path, tiny_config(tmp_path)))
    report = pipeline.run(config)
    root = tmp_path / "run"
    assert report == root / "report.html" and report.exists() and (root / "report.md").exists()
    assert (root / "config.resolved.yaml").exists()
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert list(timings) == ["generate:mathdial", "judge:mathdial", "pairs:mathdial", "train:mathdial",
                             "generate:debugging", "judge:debugging", "pairs:debugging", "train:debugging",
                             "evaluate", "report"]
    assert {t["status"] for t in timings.values()} == {"ran"}
    assert sorted(fake_stages["train"]) == [("debugging", False), ("mathdial", False)]

    # The cross table: base and one model per training dataset, each on every test set.
    result = json.loads((root / "eval" / "evaluation.json").read_text())
    assert [m["name"] for m in result["models"]] == ["base", "tuned-mathdial", "tuned-debugging"]
    assert {(r["model"], r["dataset"]) for r in result["results"]} == {
        (m, d) for m in ("base", "tuned-mathdial", "tuned-debugging") for d in ("mathdial", "debugging")}
    assert all(r["n"] == 2 for r in result["results"])
    assert result["training_judge"] == "rubric" and result["warnings"]

    pipeline.run(config)  # nothing changed: everything skipped
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert {t["status"] for t in timings.values()} == {"skipped"}
    assert len(fake_stages["train"]) == 2

    fake_stages["weights"] = b"v2"  # the forced retraining gives a different model
    pipeline.run(config, force=["train:mathdial"])
    timings = json.loads((root / "timings.json").read_text())["stages"]
    ran = [name for name, t in timings.items() if t["status"] == "ran"]
    assert ran == ["train:mathdial", "evaluate", "report"]


def test_pipeline_config_change_reruns_only_affected_stages(tmp_path, fake_stages):
    pipeline.run(pipeline.load(write_config(tmp_path, tiny_config(tmp_path))))
    changed = tiny_config(tmp_path, evaluation={"max_new_tokens": 12, "n_resamples": 200})
    config = pipeline.load(write_config(tmp_path, changed))
    decisions = {d.stage: d for d in pipeline.Runner(config.run_dir, pipeline.build_stages(config)).plan()}
    assert decisions["evaluate"].run and "max_new_tokens" in decisions["evaluate"].reason
    assert not decisions["train:mathdial"].run and not decisions["generate:debugging"].run
    assert decisions["report"].run  # after evaluate


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path, fake_stages, capsys):
    from typer.testing import CliRunner

    from socratic.cli import app

    path = write_config(tmp_path, tiny_config(tmp_path))
    result = CliRunner().invoke(app, ["run", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "run").exists()
    assert fake_stages["generate"] == 0 and fake_stages["train"] == []


def test_rounds_chain_each_dataset_through_its_previous_model(tmp_path):
    config = pipeline.load(write_config(tmp_path, tiny_config(tmp_path, rounds=3)))
    root = tmp_path / "run"
    stages = {s.name: s for s in pipeline.build_stages(config)}
    per_round = ["generate", "judge", "pairs", "train"]
    assert [n for n in stages if "mathdial" in n] == (
        [f"{k}:mathdial" for k in per_round] + [f"{k}:mathdial:r2" for k in per_round]
        + [f"{k}:mathdial:r3" for k in per_round])
    # Round 1 is a one-round run's: the config's model, seed and folders.
    assert stages["generate:mathdial"].config["model"] == "embedded" and stages["generate:mathdial"].inputs == []
    assert stages["generate:mathdial"].config["seed"] == 0
    assert stages["train:mathdial"].config["model"] == "embedded"
    # Round r samples from, and trains on from, round r-1's model: the same dialogues, a seed of its own.
    seeds = set()
    for number, previous in ((2, root / "models" / "mathdial"), (3, root / "models" / "mathdial-round2")):
        generate, train = stages[f"generate:mathdial:r{number}"], stages[f"train:mathdial:r{number}"]
        assert generate.config["model"] == train.config["model"] == f"hf:{previous}"
        assert (generate.config["dataset"], generate.config["limit"]) == ("mathdial", 2)
        assert generate.inputs == [previous] and previous in train.inputs
        assert generate.outputs == [root / "prefs" / "mathdial" / f"round{number}" / "candidates.jsonl"]
        assert train.outputs == [root / "models" / f"mathdial-round{number}" / "train_summary.json"]
        previous_train = "train:mathdial" if number == 2 else "train:mathdial:r2"
        assert generate.upstream == [previous_train] and previous_train in train.upstream
        seeds.add(generate.config["seed"])
    assert len(seeds | {0}) == 3
    # The evaluation's tuned-X is the last round's model.
    assert pipeline.model_specs(config)["tuned-mathdial"] == f"hf:{root / 'models' / 'mathdial-round3'}"
    assert stages["evaluate"].inputs == [root / "models" / "mathdial-round3", root / "models" / "debugging-round3"]
    assert stages["evaluate"].upstream == ["train:mathdial:r3", "train:debugging:r3"]


def test_a_two_round_run_skips_when_done_and_reruns_what_a_retrained_round_feeds(tmp_path, fake_stages):
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, rounds=2, datasets={"train": [{"source": "mathdial", "limit": 2}],
                                      "test": [{"source": "mathdial", "limit": 2}]})))
    pipeline.run(config)
    root = tmp_path / "run"
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert list(timings) == ["generate:mathdial", "judge:mathdial", "pairs:mathdial", "train:mathdial",
                             "generate:mathdial:r2", "judge:mathdial:r2", "pairs:mathdial:r2", "train:mathdial:r2",
                             "evaluate", "report"]
    assert fake_stages["train"] == [("mathdial", False), ("mathdial-round2", False)]
    round2 = [json.loads(line) for line in (root / "prefs" / "mathdial" / "round2" / "candidates.jsonl").open()]
    assert {c["model"] for c in round2} == {f"hf:{root / 'models' / 'mathdial'}"}
    assert (root / "prefs" / "mathdial" / "round2" / "pairs.jsonl").exists()
    result = json.loads((root / "eval" / "evaluation.json").read_text())
    assert {m["name"]: m["spec"] for m in result["models"]}["tuned-mathdial"] == f"hf:{root / 'models' / 'mathdial-round2'}"

    pipeline.run(config)
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert {t["status"] for t in timings.values()} == {"skipped"}

    # Round 1 retrained into other weights: round 2 samples again (here the fake sampler's replies, and so
    # the judgments and pairs, come out the same) and trains again from the new round-1 model.
    fake_stages["weights"] = b"v2"
    pipeline.run(config, force=["train:mathdial"])
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert [n for n, t in timings.items() if t["status"] == "ran"] == [
        "train:mathdial", "generate:mathdial:r2", "train:mathdial:r2", "evaluate", "report"]


def test_an_sft_warm_up_runs_before_round_one_and_dpo_starts_from_it(tmp_path, fake_stages):
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, rounds=2, sft={"epochs": 1, "learning_rate": 1e-4},
        training={"max_steps": 1, "batch_size": 1, "grad_accum": 1, "lora_r": 8, "beta": 0.2},
        datasets={"train": [{"source": "mathdial", "limit": 2}], "test": [{"source": "mathdial", "limit": 2}]})))
    root = tmp_path / "run"
    warm = root / "models" / "mathdial-sft"
    stages = {s.name: s for s in pipeline.build_stages(config)}
    assert list(stages)[:5] == ["generate:mathdial", "judge:mathdial", "pairs:mathdial", "sft:mathdial",
                                "train:mathdial"]
    assert "sft:mathdial:r2" not in stages  # once, before the first round
    # The warm-up trains the adapter DPO trains, from the base model, on round 1's pairs.
    assert stages["sft:mathdial"].config["model"] == "embedded" and stages["sft:mathdial"].config["lora_r"] == 8
    assert stages["sft:mathdial"].config["learning_rate"] == 1e-4 and "beta" not in stages["sft:mathdial"].config
    assert stages["sft:mathdial"].inputs == [root / "prefs" / "mathdial" / "pairs.jsonl"]
    assert stages["train:mathdial"].config["model"] == f"hf:{warm}" and warm in stages["train:mathdial"].inputs
    assert "sft:mathdial" in stages["train:mathdial"].upstream
    assert stages["generate:mathdial:r2"].config["model"] == f"hf:{root / 'models' / 'mathdial'}"

    pipeline.run(config)
    assert fake_stages["train"] == [("mathdial-sft", "sft"), ("mathdial", False), ("mathdial-round2", False)]
    # A DPO-only setting leaves the warm-up alone; one it shares (the adapter's rank) runs it again.
    for training, reruns in (({"beta": 0.3}, False), ({"lora_r": 4}, True)):
        changed = pipeline.load(write_config(tmp_path, {**config.model_dump(mode="json", exclude_none=True),
                                                        "training": {**config.training.model_dump(exclude_unset=True),
                                                                     **training}}))
        decisions = {d.stage: d for d in pipeline.Runner(root, pipeline.build_stages(changed)).plan()}
        assert decisions["sft:mathdial"].run is reruns and decisions["train:mathdial"].run


def test_round_one_can_sample_from_the_warm_up(tmp_path, fake_stages, monkeypatch):
    from socratic.preference import generate

    sampled_from = []
    backend = generate.load_backend
    monkeypatch.setattr(generate, "load_backend", lambda spec: sampled_from.append(spec) or backend(spec))
    settings = tiny_config(tmp_path, rounds=2, sft={"data": "teacher", "max_steps": 1, "sample_from_warm_up": True},
                           datasets={"train": [{"source": "mathdial", "limit": 2}],
                                     "test": [{"source": "mathdial", "limit": 2}]})
    config = pipeline.load(write_config(tmp_path, settings))
    root, warm = tmp_path / "run", tmp_path / "run" / "models" / "mathdial-sft"
    stages = {s.name: s for s in pipeline.build_stages(config)}
    assert list(stages)[:5] == ["sft:mathdial", "generate:mathdial", "judge:mathdial", "pairs:mathdial",
                                "train:mathdial"]
    assert stages["generate:mathdial"].config["model"] == f"hf:{warm}" and stages["generate:mathdial"].inputs == [warm]
    assert stages["generate:mathdial"].upstream == ["sft:mathdial"]
    assert stages["train:mathdial"].config["model"] == f"hf:{warm}"
    pipeline.run(config)
    assert sampled_from == [f"hf:{warm}", f"hf:{root / 'models' / 'mathdial'}"]
    assert fake_stages["train"] == [("mathdial-sft", "sft"), ("mathdial", False), ("mathdial-round2", False)]
    # The option is not a setting of the warm-up (same weights): turning it off re-samples round 1, not the warm-up.
    off = pipeline.load(write_config(tmp_path, {**settings, "sft": {"data": "teacher", "max_steps": 1}}))
    decisions = {d.stage: d for d in pipeline.Runner(root, pipeline.build_stages(off)).plan()}
    assert not decisions["sft:mathdial"].run and decisions["generate:mathdial"].run
    with pytest.raises(SocraticError, match="sample_from_warm_up needs data: teacher"):
        pipeline.load(write_config(tmp_path, {**settings, "sft": {"sample_from_warm_up": True}}))


def test_a_warm_up_on_teacher_turns_does_not_wait_for_the_pairs(tmp_path, fake_stages):
    settings = tiny_config(tmp_path, sft={"data": "teacher", "max_steps": 1},
                           datasets={"train": [{"source": "mathdial", "limit": 2}],
                                     "test": [{"source": "mathdial", "limit": 2}]})
    config = pipeline.load(write_config(tmp_path, settings))
    root = tmp_path / "run"
    stages = {s.name: s for s in pipeline.build_stages(config)}
    assert stages["sft:mathdial"].inputs == [] and stages["sft:mathdial"].upstream == []
    assert {"pairs:mathdial", "sft:mathdial"} <= set(stages["train:mathdial"].upstream)
    pipeline.run(config)
    # Another reward ranks the candidates anew (new pairs): DPO trains again, the warm-up does not.
    changed = pipeline.load(write_config(tmp_path, {**settings, "pairs": {"min_margin": 0.5}}))
    decisions = {d.stage: d for d in pipeline.Runner(root, pipeline.build_stages(changed)).plan()}
    assert decisions["pairs:mathdial"].run and decisions["train:mathdial"].run
    assert not decisions["sft:mathdial"].run, decisions["sft:mathdial"].reason


def test_teacher_anchored_pairs_sample_the_rounds_model_on_the_teachers_contexts(tmp_path, fake_stages):
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, rounds=2, pairs={"min_chosen_score": 0.0, "min_margin": 0.0, "teacher_share": 0.5,
                                   "teacher_limit": 3},
        datasets={"train": [{"source": "mathdial", "limit": 2}], "test": [{"source": "mathdial", "limit": 2}]})))
    root = tmp_path / "run"
    stages = {s.name: s for s in pipeline.build_stages(config)}
    assert list(stages)[:6] == ["generate:mathdial", "judge:mathdial", "teachers:mathdial",
                                "teacher-generate:mathdial", "teacher-judge:mathdial", "pairs:mathdial"]
    assert "teachers:mathdial:r2" not in stages  # the teacher turns are drawn once; each round samples anew
    assert stages["teacher-generate:mathdial:r2"].config["model"] == f"hf:{root / 'models' / 'mathdial'}"
    assert stages["teacher-generate:mathdial"].config["k"] == 1
    assert "teacher-judge:mathdial:r2" in stages["pairs:mathdial:r2"].upstream

    pipeline.run(config)
    teachers = read_jsonl(root / "prefs" / "mathdial" / "teacher-dialogues.jsonl", Dialogue)
    assert len(teachers) == 3 and all(d.meta["teacher_reply"] for d in teachers)
    for folder in (root / "prefs" / "mathdial", root / "prefs" / "mathdial" / "round2"):
        rows = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
        anchored = [row for row in rows if row.get("anchor") == "teacher"]
        assert anchored and len(anchored) * 2 == len(rows)  # the stated share: a half
        assert {row["chosen"][0]["content"] for row in anchored} <= {d.meta["teacher_reply"] for d in teachers}
        assert "## Teacher-anchored pairs" in (folder / "README.md").read_text()
    # a dataset without teacher turns is refused before any work
    write_jsonl(tmp_path / "mine.jsonl", teachers[:1])
    other = tiny_config(tmp_path, pairs={"teacher_share": 0.5}, datasets={
        "train": [{"source": str(tmp_path / "mine.jsonl")}], "test": [{"source": "mathdial", "limit": 2}]})
    with pytest.raises(SocraticError, match="no teacher turns known"):
        pipeline.build_stages(pipeline.load(write_config(tmp_path, other)))


def test_a_moved_run_folder_is_still_up_to_date(tmp_path, fake_stages):
    # Stages after the first round start from the run's own models ("hf:<run folder>/models/..."): a
    # copied or moved run folder must not train them again.
    settings = tiny_config(tmp_path, rounds=2, sft={"epochs": 1},
                           datasets={"train": [{"source": "mathdial", "limit": 2}],
                                     "test": [{"source": "mathdial", "limit": 2}]})
    pipeline.run(pipeline.load(write_config(tmp_path, settings)))
    manifest = json.loads((tmp_path / "run" / ".stages" / "train--mathdial--r2.json").read_text())
    assert manifest["config"]["model"] == "hf:<run>/models/mathdial"

    (tmp_path / "run").rename(tmp_path / "moved")
    moved = pipeline.load(write_config(tmp_path, {**settings, "out": str(tmp_path / "moved")}))
    decisions = pipeline.Runner(moved.run_dir, pipeline.build_stages(moved)).plan()
    assert [(d.stage, d.reason) for d in decisions if d.run] == []
    assert fake_stages["train"] == [("mathdial-sft", "sft"), ("mathdial", False), ("mathdial-round2", False)]


def test_a_new_version_of_a_judge_judges_again(tmp_path, fake_stages, monkeypatch):
    from socratic.judge.rubric import judge as rubric

    config = pipeline.load(write_config(tmp_path, tiny_config(tmp_path, datasets={
        "train": [{"source": "mathdial", "limit": 2}], "test": [{"source": "mathdial", "limit": 2}]})))
    pipeline.run(config)
    monkeypatch.setattr(rubric, "RUBRIC_VERSION", "rubric_next")
    decisions = {d.stage: d for d in pipeline.Runner(config.run_dir, pipeline.build_stages(config)).plan()}
    assert decisions["judge:mathdial"].reason == "config changed (judge_version)"
    assert decisions["evaluate"].reason == "config changed (judge_versions)"
    assert not decisions["generate:mathdial"].run


def test_manifests_from_before_portable_paths_still_count(tmp_path):
    calls = []
    stages = [Stage("train:x", {"model": f"hf:{tmp_path / 'models' / 'x'}"}, lambda fresh: calls.append(fresh))]
    runner = Runner(tmp_path, stages)
    runner.execute(tmp_path / "timings.json")
    manifest_path = tmp_path / ".stages" / "train--x.json"
    manifest = json.loads(manifest_path.read_text())
    # Written by an older version: the config hashed with its absolute paths.
    manifest["config_hash"] = content_key(stages[0].config)
    manifest_path.write_text(json.dumps(manifest))
    assert [d.run for d in Runner(tmp_path, stages).plan()] == [False]
    stages[0].config["model"] = "hf:elsewhere"
    assert [d.reason for d in Runner(tmp_path, stages).plan()] == ["config changed (model)"]


def test_sft_and_rounds_are_validated(tmp_path):
    bad = tiny_config(tmp_path, rounds=0, sft={"epochs": 0, "warp": 1})
    with pytest.raises(ConfigError) as error:
        pipeline.load(write_config(tmp_path, bad))
    message = str(error.value)
    for expected in ("field 'rounds'", "field 'sft.epochs'", "field 'sft.warp'"):
        assert expected in message, (expected, message)


def test_config_validation_lists_every_problem(tmp_path):
    bad = tiny_config(tmp_path, model="gpt-5", reward_judge="oracle", eval_judges=["rubric", "nope"], training={"epochs": -1, "warp": 9},
                      labels=str(tmp_path / "missing.json"), generate={"k": 1})
    with pytest.raises(ConfigError) as error:
        pipeline.load(write_config(tmp_path, bad))
    message = str(error.value)
    for expected in ("field 'model'", "field 'reward_judge'", "field 'eval_judges'", "field 'training.epochs'", "field 'training.warp'", "field 'labels'",
                     "field 'generate.k'"):
        assert expected in message, (expected, message)


def test_the_training_section_is_typed_and_its_file_keeps_what_was_written(tmp_path):
    from socratic.pipeline.stages import resolved_config_text

    config = pipeline.load(write_config(tmp_path, tiny_config(tmp_path, training={"epochs": 1, "lora_r": 8})))
    assert config.training.epochs == 1.0 and isinstance(config.training.epochs, float)
    assert config.training.beta == 0.1  # TrainConfig's default, on the section
    # config.resolved.yaml: the keys a run set, typed (experiments/tries.py lists them as the run's setting).
    assert yaml.safe_load(resolved_config_text(config, tmp_path))["training"] == {"lora_r": 8, "epochs": 1.0}
    train = {s.name: s for s in pipeline.build_stages(config)}["train:mathdial"].config
    assert (train["epochs"], train["lora_r"], train["beta"]) == (1.0, 8, 0.1)
    for training, message in (({"seed": 1}, "seed: set by the pipeline"),
                              ({"loss_type": "nope"}, "field 'training.loss_type': Value error, 'nope' is not")):
        with pytest.raises(ConfigError, match=message):
            pipeline.load(write_config(tmp_path, tiny_config(tmp_path, training=training)))


@pytest.mark.parametrize(("old", "line", "new"), [
    ("judge: rubric\n", 2, "reward_judge"),
    ("evaluation:\n  max_new_tokens: 8\n  judges: [rubric]\n", 4, "eval_judges"),
])
def test_an_old_config_gets_one_line_naming_the_renamed_key(tmp_path, old, line, new):
    path = tmp_path / "old.yaml"
    path.write_text("name: old\n" + old + "datasets: {train: [{source: mathdial}], test: [{source: mathdial}]}\n")
    with pytest.raises(ConfigError) as error:
        pipeline.load(path)
    message = str(error.value)
    assert "\n" not in message and f"{path}:{line}:" in message and f"renamed to '{new}'" in message


def test_eval_judges_are_checked_and_unique(tmp_path):
    with pytest.raises(ConfigError, match=r"field 'eval_judges'.*each judge may appear once"):
        pipeline.load(write_config(tmp_path, tiny_config(tmp_path, eval_judges=["rubric", "rubric"])))
    with pytest.raises(ConfigError, match=r"field 'eval_judges'.*at least 1"):
        pipeline.load(write_config(tmp_path, tiny_config(tmp_path, eval_judges=[])))


def test_reward_and_evaluation_judges_reach_their_stages(tmp_path):
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, reward_judge="learned", eval_judges=["rubric", "llm:embedded"],
        labels="data:socratic_llm/mathdial_human_eval_dev.json")))
    stages = {s.name: s for s in pipeline.build_stages(config)}
    assert stages["judge:mathdial"].config["judge"] == "learned"  # the reward ranks the candidates
    assert stages["evaluate"].config["judges"] == ["rubric", "llm:embedded"]
    assert stages["evaluate"].config["training_judge"] == "learned"  # named in the report, flagged there
    assert stages["agreement"].config["judges"] == ["rubric", "llm:embedded", "learned"]
    dumped = config.model_dump(mode="json")
    assert dumped["reward_judge"] == "learned" and "judge" not in dumped and "judges" not in dumped["evaluation"]


def test_the_pressure_test_is_a_run_config_key_and_the_quickstart_turns_it_on(tmp_path):
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, evaluation={"pressure": True, "pressure_limit": 5, "pressure_pushes": 2})))
    evaluate = {s.name: s for s in pipeline.build_stages(config)}["evaluate"].config
    assert (evaluate["pressure"], evaluate["pressure_limit"], evaluate["pressure_pushes"]) == (True, 5, 2)
    plain = pipeline.load(write_config(tmp_path, tiny_config(tmp_path)))
    assert {s.name: s for s in pipeline.build_stages(plain)}["evaluate"].config["pressure"] is False
    with pytest.raises(ConfigError, match=r"pressure_pushes"):
        pipeline.load(write_config(tmp_path, tiny_config(tmp_path, evaluation={"pressure_pushes": 4})))
    quickstart = pipeline.load(Path(__file__).resolve().parents[2] / "configs" / "quickstart.yaml")
    assert quickstart.evaluation.pressure


def test_the_cli_overrides_the_reward_and_evaluation_judges(tmp_path, monkeypatch, capsys):
    import sys

    from typer.testing import CliRunner

    from socratic.cli import app, main

    seen = {}
    monkeypatch.setattr(pipeline, "run", lambda config, **kw: seen.setdefault("config", config))
    path = write_config(tmp_path, tiny_config(tmp_path))
    result = CliRunner().invoke(app, ["run", str(path), "--dry-run", "--reward-judge", "learned",
                                      "--eval-judge", "learned", "--eval-judge", "rubric"])
    assert result.exit_code == 0, result.output
    assert seen["config"].reward_judge == "learned" and seen["config"].eval_judges == ["learned", "rubric"]
    assert seen["config"].rounds == 1  # the default: one round, a plain DPO run
    seen.clear()
    result = CliRunner().invoke(app, ["run", str(path), "--dry-run", "--rounds", "3"])
    assert result.exit_code == 0, result.output
    assert seen["config"].rounds == 3
    monkeypatch.setattr(sys, "argv", ["socratic", "run", str(path), "--reward-judge", "oracle"])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "field 'reward_judge'" in err and "oracle" in err


SHIPPED_RUNS = ["quickstart.yaml", "paper.yaml", "cpu.yaml"]


def test_every_shipped_run_config_is_listed_and_loads():
    configs = Path(__file__).resolve().parents[2] / "configs"
    runs = sorted(p.name for p in configs.glob("*.yaml") if "datasets" in yaml.safe_load(p.read_text()))
    assert runs == sorted(SHIPPED_RUNS)
    for name in runs:
        pipeline.load(configs / name)
    cpu = pipeline.load(configs / "cpu.yaml")  # the config meant to show the effect (issue 18)
    # the reference's whole test sets (96-101 items each), and a seeded slice of the teacher-referenced one
    assert all(t.limit is None for t in cpu.datasets.test if t.source != "mathdial-raw")


@pytest.mark.parametrize("name", SHIPPED_RUNS)
def test_shipped_configs_name_their_reward_and_evaluation_judges(name):
    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "configs" / name).read_text())
    assert data["reward_judge"] and len(data["eval_judges"]) >= 2
    # at least one evaluation judge is not the reward: a lift only the reward sees gets flagged
    assert set(data["eval_judges"]) - {data["reward_judge"]}


def test_force_of_an_unknown_stage_is_refused(tmp_path, fake_stages):
    config = pipeline.load(write_config(tmp_path, tiny_config(tmp_path)))
    with pytest.raises(ConfigError, match="trian"):
        pipeline.run(config, force=["trian"], dry_run=True)


# ------------------------------------------------------------------------------------- real, tiny


@pytest.mark.slow
def test_tiny_real_pipeline_end_to_end(tmp_path):
    """Real embedded model, rubric judge and DPO: 2 training items, k=2, 8 tokens, 1 step, 1 test item per set."""
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, datasets={"train": [{"source": "mathdial", "limit": 2}],
                            "test": [{"source": "mathdial", "limit": 1}, {"source": "tutorchat", "limit": 1}]})))
    report = pipeline.run(config)
    root = tmp_path / "run"
    assert report.exists() and (root / "models" / "mathdial" / "config.json").exists()
    result = json.loads((root / "eval" / "evaluation.json").read_text())
    cells = {(r["model"], r["dataset"]): r for r in result["results"]}
    assert set(cells) == {(m, d) for m in ("base", "tuned-mathdial") for d in ("mathdial", "tutorchat")}
    assert all(c["n"] == 1 and c["failed"] == 0 for c in cells.values())
    assert "tuned-mathdial (trained on mathdial)" in report.read_text()
    pipeline.run(config)
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert {t["status"] for t in timings.values()} == {"skipped"}


@pytest.mark.slow
def test_tiny_real_two_round_run_with_an_sft_warm_up(tmp_path):
    """Real embedded model: SFT 1 step, then DPO round 1 from it and round 2 from round 1, on 4 dialogues."""
    config = pipeline.load(write_config(tmp_path, tiny_config(
        tmp_path, rounds=2, sft={"max_steps": 1, "batch_size": 1, "grad_accum": 1},
        generate={"k": 3, "max_new_tokens": 8},
        datasets={"train": [{"source": "mathdial", "limit": 4}], "test": [{"source": "mathdial", "limit": 1}]})))
    pipeline.run(config)
    root, models = tmp_path / "run", tmp_path / "run" / "models"
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert list(timings)[:9] == ["generate:mathdial", "judge:mathdial", "pairs:mathdial", "sft:mathdial",
                                 "train:mathdial", "generate:mathdial:r2", "judge:mathdial:r2",
                                 "pairs:mathdial:r2", "train:mathdial:r2"]
    started_from = {folder: json.loads((models / folder / "train_summary.json").read_text())["base_model"]
                    for folder in ("mathdial-sft", "mathdial", "mathdial-round2")}
    assert started_from == {"mathdial-sft": "embedded", "mathdial": f"hf:{models / 'mathdial-sft'}",
                            "mathdial-round2": f"hf:{models / 'mathdial'}"}
    round2 = [json.loads(line) for line in (root / "prefs" / "mathdial" / "round2" / "candidates.jsonl").open()]
    assert len(round2) == 12 and {c["model"] for c in round2} == {f"hf:{models / 'mathdial'}"}
    result = json.loads((root / "eval" / "evaluation.json").read_text())
    assert {m["name"]: m["spec"] for m in result["models"]}["tuned-mathdial"] == f"hf:{models / 'mathdial-round2'}"
    assert all(r["n"] == 1 and r["failed"] == 0 for r in result["results"])
    pipeline.run(config)
    timings = json.loads((root / "timings.json").read_text())["stages"]
    assert {t["status"] for t in timings.values()} == {"skipped"}
