"""Bad input to every command that reads files: one clear line naming file:line:field, exit 2, no
traceback, and nothing half-written (the output is absent, or unchanged when it existed before).

Most cases call the CLI entry point (`socratic.cli.main`) in-process, which is the same code path as
the installed command without paying a process start per case; a few run `.venv/bin/socratic` as
a subprocess to check real stderr and exit codes. Runs in ~30 s.

    .venv/bin/python -m pytest -q tests/reliability/test_reliability_bad_input.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from socratic.records import Candidate, Dialogue, Turn
from socratic.render import render_messages
from socratic.scores import Judgment, Scores, summary_score

SOCRATIC = Path(sys.executable).with_name("socratic")

DIALOGUE = Dialogue(id="d1", source="user", split="test", context="Tom has 3 apples and buys 4. How many now?",
                    turns=[Turn(role="student", text="Is it 12?")], reference="7")


def dialogue(**changes) -> dict:
    return {**DIALOGUE.model_dump(mode="json"), **changes}


def candidate(**changes) -> dict:
    return {**Candidate(dialogue=DIALOGUE, reply="What does 'buys 4 more' do?", model="fake").model_dump(
        mode="json"), **changes}


def judgment(**changes) -> dict:
    scores = Scores(questions=True, on_topic=4, helpful=3, reveal_answer=False)
    return {**Judgment(dialogue=DIALOGUE, reply="What do you add?", judge="rubric", scores=scores,
                       summary=summary_score(scores), meta={"model": "fake", "index": 0}).model_dump(mode="json"),
            **changes}


def labelled(**changes) -> dict:
    return {"dialogue": DIALOGUE.model_dump(mode="json"), "reply": "What do you add?",
            "labels": {"questions": True, "on_topic": 4, "helpful": 3, "reveal_answer": False}, **changes}


def pair(**changes) -> dict:
    return {"prompt": render_messages(DIALOGUE), "chosen": [{"role": "assistant", "content": "What do you add?"}],
            "rejected": [{"role": "assistant", "content": "It is 7."}], "chosen_score": 0.9, "rejected_score": 0.2,
            "dialogue_id": "d1", **changes}


def lines(*records) -> bytes:
    """JSONL bytes; a bytes item is written as is (a truncated or non-UTF-8 line)."""
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


TRUNCATED = json.dumps(dialogue(id="d2")).encode()[:45]
NON_UTF8 = json.dumps(dialogue(id="d2", context="caf\u00e9"), ensure_ascii=False).encode("latin-1")


def cli(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """Run `socratic ARGS` in-process: (exit code, stdout, stderr)."""
    from socratic.cli import main

    monkeypatch.setattr(sys, "argv", ["socratic", *map(str, args)])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def check_error(code: int, err: str, *expected: str) -> None:
    """Exit 2, exactly one line on stderr, which holds every expected piece (file:line, field, why)."""
    assert code == 2, err
    assert "Traceback" not in err
    shown = [line for line in err.splitlines() if line.strip()]
    assert len(shown) == 1, f"expected one line, got:\n{err}"
    assert shown[0].startswith("error: ")
    for piece in expected:
        assert piece in shown[0], (piece, shown[0])


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # messages name files as given: relative names keep expectations exact
    return tmp_path


def state(path: Path):
    """What a path holds (None if absent), to prove an output was not touched."""
    if path.is_dir():
        return sorted((p.name, p.read_bytes()) for p in path.rglob("*") if p.is_file())
    return path.read_bytes() if path.exists() else None


# ------------------------------------------------------------------------------------------ dialogues

DIALOGUE_CASES = {
    "truncated": (lines(dialogue(), TRUNCATED), ["in.jsonl:2:", "invalid JSON"]),
    "missing_field": (lines(dialogue(), {k: v for k, v in dialogue(id="d2").items() if k != "turns"}),
                      ["in.jsonl:2:", "field 'turns'", "required"]),
    "wrong_type": (lines(dialogue(turns="Is it 12?")), ["in.jsonl:1:", "field 'turns'"]),
    "wrong_role": (lines(dialogue(turns=[{"role": "teacher", "text": "hi"}])),
                   ["in.jsonl:1:", "field 'turns.0.role'"]),
    "empty_turn": (lines(dialogue(turns=[{"role": "student", "text": "  "}])),
                   ["in.jsonl:1:", "field 'turns.0.text'", "empty"]),
    "no_turns": (lines(dialogue(turns=[])), ["in.jsonl:1:", "field 'turns'", "at least one turn"]),
    "ends_on_tutor": (lines(dialogue(turns=[{"role": "student", "text": "Is it 12?"},
                                            {"role": "tutor", "text": "What do you add?"}])),
                      ["in.jsonl:1:", "field 'turns'", "end on a student turn"]),
    "non_utf8": (lines(dialogue(), NON_UTF8), ["in.jsonl:2:", "not valid UTF-8"]),
    "duplicate_id": (lines(dialogue(), dialogue()), ["in.jsonl:2:", "field 'id'", "duplicate"]),
    "empty_file": (b"", ["in.jsonl", "no dialogues"]),
}


@pytest.mark.parametrize("case", sorted(DIALOGUE_CASES))
def test_data_export_of_a_bad_user_file(work, capsys, monkeypatch, case):
    content, expected = DIALOGUE_CASES[case]
    (work / "in.jsonl").write_bytes(content)
    (work / "kept.jsonl").write_text("previous export\n")
    code, _, err = cli(capsys, monkeypatch, "data", "export", "in.jsonl", "-o", "out.jsonl")
    check_error(code, err, *expected)
    assert not (work / "out.jsonl").exists()
    code, _, err = cli(capsys, monkeypatch, "data", "export", "in.jsonl", "-o", "kept.jsonl")
    check_error(code, err, *expected)
    assert (work / "kept.jsonl").read_text() == "previous export\n"


@pytest.mark.parametrize("case", ["truncated", "ends_on_tutor", "non_utf8"])
def test_generate_and_evaluate_refuse_a_bad_dataset_file(work, capsys, monkeypatch, case):
    content, expected = DIALOGUE_CASES[case]
    (work / "in.jsonl").write_bytes(content)
    code, _, err = cli(capsys, monkeypatch, "generate", "--dataset", "in.jsonl", "--model", "fake:Why?", "-k", "2",
                       "-o", "cands.jsonl")
    check_error(code, err, *expected)
    assert state(work / "cands.jsonl") is None and not (work / "cands.jsonl.config.json").exists()
    code, _, err = cli(capsys, monkeypatch, "evaluate", "--model", "base=fake:Why?", "--dataset", "in.jsonl",
                       "--judge", "rubric", "-o", "eval", "--no-report")
    check_error(code, err, *expected)
    assert state(work / "eval") in (None, [])


@pytest.mark.parametrize(("change", "expected"), [({"version": 2}, ["field 'version'", "upgrade socratic"]),
                                                  ({"k": "two"}, ["field 'k'"])], ids=["newer_format", "wrong_type"])
def test_generate_refuses_a_bad_settings_file_and_leaves_the_candidates(work, capsys, monkeypatch, change, expected):
    from socratic.preference import generate

    (work / "in.jsonl").write_bytes(lines(dialogue(), dialogue(id="d2")))
    generate.run(generate.GenerateConfig(dataset="in.jsonl", model="fake:Why?", k=2, limit=1, out=Path("cands.jsonl")))
    sidecar = work / "cands.jsonl.config.json"
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), **change}))
    before = state(work / "cands.jsonl")
    code, _, err = cli(capsys, monkeypatch, "generate", "--dataset", "in.jsonl", "--model", "fake:Why?", "-k", "2",
                       "-o", "cands.jsonl")  # no limit: it would extend the file
    check_error(code, err, "cands.jsonl.config.json", *expected)
    assert state(work / "cands.jsonl") == before


# ------------------------------------------------------------------------------------------ judge

JUDGE_CASES = {
    "truncated": (lines(candidate(), TRUNCATED), ["in.jsonl:2:", "invalid JSON"]),
    "missing_field": (lines(candidate(), {k: v for k, v in candidate().items() if k != "reply"}),
                      ["in.jsonl:2:", "field 'reply'"]),
    "wrong_type": (lines(candidate(), candidate(index="first")), ["in.jsonl:2:", "field 'index'"]),
    "empty_turn": (lines(candidate(dialogue=dialogue(turns=[{"role": "student", "text": ""}]))),
                   ["in.jsonl:1:", "field 'dialogue.turns.0.text'"]),
    "ends_on_tutor": (lines(candidate(dialogue=dialogue(turns=[{"role": "student", "text": "Is it 12?"},
                                                               {"role": "tutor", "text": "No."}]))),
                      ["in.jsonl:1:", "field 'dialogue.turns'", "end on a student turn"]),
    "non_utf8": (lines(candidate(), json.dumps(candidate(reply="caf\u00e9"), ensure_ascii=False).encode("latin-1")),
                 ["in.jsonl:2:", "not valid UTF-8"]),
    "not_records": (lines({"hello": 1}), ["in.jsonl:1:", "'dialogue' and 'reply'"]),
    "newer_format": (lines(candidate(), candidate(version=Candidate.VERSION + 1)),
                     ["in.jsonl:2:", "field 'version'", "newer than this socratic reads", "upgrade socratic"]),
}


@pytest.mark.parametrize("case", sorted(JUDGE_CASES))
def test_judge_of_a_bad_file(work, capsys, monkeypatch, case):
    content, expected = JUDGE_CASES[case]
    (work / "in.jsonl").write_bytes(content)
    (work / "out.jsonl").write_text("earlier judgments\n")
    code, _, err = cli(capsys, monkeypatch, "judge", "-i", "in.jsonl", "-o", "out.jsonl", "--judge", "rubric")
    check_error(code, err, *expected)
    assert (work / "out.jsonl").read_text() == "earlier judgments\n"


@pytest.mark.parametrize(("spec", "expected"), [("oracle", "unknown judge spec 'oracle'"),
                                                ("llm:gpt-5", "unknown model spec 'gpt-5'"),
                                                ("llm:", "unknown judge spec 'llm:'")])
def test_judge_with_an_unknown_spec(work, capsys, monkeypatch, spec, expected):
    (work / "in.jsonl").write_bytes(lines(candidate()))
    code, _, err = cli(capsys, monkeypatch, "judge", "-i", "in.jsonl", "-o", "out.jsonl", "--judge", spec)
    check_error(code, err, expected)
    assert not (work / "out.jsonl").exists()


# ------------------------------------------------------------------------------------------ pairs, train

@pytest.mark.parametrize(("content", "expected"), [
    (lines(judgment(), TRUNCATED), ["in.jsonl:2:", "invalid JSON"]),
    (lines(judgment(), judgment(scores={"questions": "often", "on_topic": 4, "helpful": 3,
                                        "reveal_answer": False})), ["in.jsonl:2:", "field 'scores.questions'"]),
    (lines({k: v for k, v in judgment().items() if k != "judge"}), ["in.jsonl:1:", "field 'judge'"]),
    (lines(judgment(), NON_UTF8), ["in.jsonl:2:", "not valid UTF-8"]),
    (lines(judgment(version=Judgment.VERSION + 1)), ["in.jsonl:1:", "field 'version'", "upgrade socratic"]),
], ids=["truncated", "wrong_type", "missing_field", "non_utf8", "newer_format"])
def test_pairs_of_a_bad_judgments_file(work, capsys, monkeypatch, content, expected):
    (work / "in.jsonl").write_bytes(content)
    code, _, err = cli(capsys, monkeypatch, "pairs", "--judgments", "in.jsonl", "-o", "prefs/pairs.jsonl")
    check_error(code, err, *expected)
    assert state(work / "prefs") in (None, [])


@pytest.mark.parametrize(("content", "expected"), [
    (lines(pair(), json.dumps(pair()).encode()[:30]), ["in.jsonl:2:", "invalid JSON"]),
    (lines(pair(chosen="What do you add?")), ["in.jsonl:1:", "field 'chosen'"]),
    (lines({k: v for k, v in pair().items() if k != "rejected"}), ["in.jsonl:1:", "field 'rejected'"]),
    (lines(pair(prompt=[*render_messages(DIALOGUE), {"role": "assistant", "content": "No."}])),
     ["in.jsonl:1:", "field 'prompt'"]),
    (lines(pair(version=2)), ["in.jsonl:1:", "field 'version'", "upgrade socratic"]),
], ids=["truncated", "wrong_type", "missing_field", "ends_on_tutor", "newer_format"])
def test_train_on_a_bad_pairs_file(work, capsys, monkeypatch, content, expected):
    (work / "in.jsonl").write_bytes(content)
    code, _, err = cli(capsys, monkeypatch, "train", "--pairs", "in.jsonl", "-o", "model", "--max-steps", "1")
    check_error(code, err, *expected)
    assert not (work / "model").exists()


def test_unknown_model_specs_are_refused_before_anything_is_written(work, capsys, monkeypatch):
    (work / "in.jsonl").write_bytes(lines(dialogue()))
    (work / "pairs.jsonl").write_bytes(lines(pair()))
    runs = {
        "cands.jsonl": ["generate", "--dataset", "in.jsonl", "--model", "gpt-5", "-o", "cands.jsonl"],
        "model": ["train", "--pairs", "pairs.jsonl", "--model", "gpt-5", "-o", "model"],
        "eval": ["evaluate", "--model", "base=gpt-5", "--dataset", "in.jsonl", "-o", "eval", "--no-report"],
    }
    for output, args in runs.items():
        code, _, err = cli(capsys, monkeypatch, *args)
        check_error(code, err, "unknown model spec 'gpt-5'")
        assert state(work / output) is None, f"{args[0]} left {output} behind"


def test_missing_input_files(work, capsys, monkeypatch):
    runs = [["data", "export", "none.jsonl", "-o", "out.jsonl"],
            ["judge", "-i", "none.jsonl", "-o", "out.jsonl"],
            ["pairs", "--judgments", "none.jsonl", "-o", "out.jsonl"],
            ["train", "--pairs", "none.jsonl", "-o", "out"],
            ["agreement", "--labels", "none.jsonl", "-o", "out"],
            ["generate", "--dataset", "none.jsonl", "--model", "fake", "-o", "out.jsonl"]]
    for args in runs:
        code, _, err = cli(capsys, monkeypatch, *args)
        check_error(code, err, "none.jsonl", "not found")
        assert not (work / "out.jsonl").exists() and not (work / "out").exists(), args


@pytest.mark.parametrize(("content", "expected"), [
    (lines(labelled(), TRUNCATED), ["labels.jsonl:2:", "invalid JSON"]),
    (lines(labelled(), NON_UTF8), ["labels.jsonl:2:", "not valid UTF-8"]),
    (lines(labelled(), labelled(labels={"on_topic": 9})), ["labels.jsonl:2:", "field 'labels.on_topic'"]),
    (b'[{"prompt": "Student: hi", "output": 5}]', ["labels.jsonl", "field 'output'"]),
    (b'[{"prompt": "Student: hi", "output": "What', ["labels.jsonl:1", "invalid JSON"]),
], ids=["truncated", "non_utf8", "out_of_range", "wrong_type_reference_format", "truncated_reference_format"])
def test_agreement_on_a_bad_labels_file(work, capsys, monkeypatch, content, expected):
    (work / "labels.jsonl").write_bytes(content)
    code, _, err = cli(capsys, monkeypatch, "agreement", "--labels", "labels.jsonl", "-o", "agreement")
    check_error(code, err, *expected)
    assert not (work / "agreement").exists()


# ------------------------------------------------------------------------------------------ configs

def test_bad_yaml_names_file_and_line(work, capsys, monkeypatch):
    (work / "bad.yaml").write_text("name: x\ndatasets:\n  train: [{source: mathdial\nmodel: embedded\n")
    for args in (["run", "bad.yaml"], ["train", "--config", "bad.yaml"], ["evaluate", "--config", "bad.yaml"],
                 ["generate", "--config", "bad.yaml"]):
        code, _, err = cli(capsys, monkeypatch, *args)
        check_error(code, err, "bad.yaml:", "invalid YAML")
        assert sorted(p.name for p in work.iterdir()) == ["bad.yaml"], args


def test_a_config_with_several_problems_lists_them_all_with_lines(work, capsys, monkeypatch):
    (work / "run.yaml").write_text(
        "name: multi\n"
        "out: runs/multi\n"
        "model: gpt-5\n"                                     # line 3: unknown spec
        "seed: many\n"                                       # line 4: wrong type
        "datasets:\n"
        "  train: [{source: mathdial, limit: -3}]\n"         # line 6: out of range
        "  test: [{source: mathdial, limit: 2}]\n"
        "generate: {k: 1}\n"                                 # line 8: k must be >= 2
        "warp_speed: 9\n")                                   # line 9: unknown option
    code, _, err = cli(capsys, monkeypatch, "run", "run.yaml")
    check_error(code, err, "run.yaml:3: field 'model'", "run.yaml:4: field 'seed'",
                "run.yaml:6: field 'datasets.train.0.limit'", "run.yaml:8: field 'generate.k'",
                "run.yaml:9: field 'warp_speed'")
    assert not (work / "runs").exists()


def test_stage_configs_list_all_problems_too(work, capsys, monkeypatch):
    (work / "train.yaml").write_text("pairs: pairs.jsonl\nout: model\nbeta: -1\nlora_r: zero\nloss_type: magic\n")
    code, _, err = cli(capsys, monkeypatch, "train", "--config", "train.yaml")
    check_error(code, err, "train.yaml:3: field 'beta'", "train.yaml:4: field 'lora_r'",
                "train.yaml:5: field 'loss_type'")
    (work / "eval.yaml").write_text("models: {base: embedded}\ndatasets: [mathdial]\nout: eval\n"
                                    "limit: 0\nmax_new_tokens: -5\nextra: 1\n")
    code, _, err = cli(capsys, monkeypatch, "evaluate", "--config", "eval.yaml")
    check_error(code, err, "eval.yaml:4: field 'limit'", "eval.yaml:5: field 'max_new_tokens'",
                "eval.yaml:6: field 'extra'")
    assert not (work / "model").exists() and not (work / "eval").exists()


# ------------------------------------------------------------------------------------------ real processes

@pytest.mark.parametrize("args", [
    ["data", "export", "in.jsonl", "-o", "out.jsonl"],
    ["judge", "-i", "in.jsonl", "-o", "out.jsonl"],
    ["run", "missing.yaml"],
], ids=["data-export", "judge", "run"])
def test_the_installed_command_prints_one_line_and_exits_2(work, args):
    (work / "in.jsonl").write_bytes(lines(dialogue(), NON_UTF8))
    done = subprocess.run([str(SOCRATIC), *args], capture_output=True, text=True, check=False, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(work), "COLUMNS": "40"})
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # even on a 40-column terminal
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: ")
    assert not (work / "out.jsonl").exists()
