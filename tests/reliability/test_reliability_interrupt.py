"""kill -9 during generate, judge, evaluate and train, then re-run: nothing lost, nothing duplicated,
every output valid, and the re-run's outputs equal an uninterrupted run's. Ctrl-C (SIGINT) during
generate and during a `socratic run` of the embedded model exits 130 with the resume hint, and resumes.

Each stage runs as a real `.venv/bin/socratic` process. Models and the LLM judge are a scripted
OpenAI-compatible server on 127.0.0.1 (tests/fakes/llm_server.py) that answers deterministically
(the reply depends only on the request) and slowly enough to kill mid-run; the moment to kill is
found by polling the output file, the server's answer count or the checkpoint folder. Training uses
the real embedded model for a few tiny steps (marked slow, ~1-2 min on 2 CPUs); the rest takes ~30 s.

    .venv/bin/python -m pytest -q tests/reliability/test_reliability_interrupt.py
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.llm_server import FakeLLM, Reply, Request, judgment_json
from socratic.records import Candidate, Dialogue, Turn
from socratic.render import render_messages
from socratic.scores import Judgment
from socratic.store.jsonl import read_jsonl

SOCRATIC = Path(sys.executable).with_name("socratic")


# ------------------------------------------------------------------------------------------ helpers

def digest(*parts) -> int:
    return int(hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:8], 16)


def deterministic(request: Request) -> Reply:
    """Tutor requests get a reply that depends on the messages and seed only; judge requests a judgment."""
    body = request.body
    key = digest(body.get("model"), body.get("messages"), body.get("seed"))
    if "<tutor_reply>" in request.text:  # the judge prompt
        return Reply(judgment_json(questions=key % 2 == 0, on_topic=1 + key % 5, helpful=1 + key // 5 % 5,
                                   reveal_answer=key % 3 == 0), delay=0.1)
    return Reply(f"What would you try first? (#{key % 1000})", delay=0.1)


def write_dialogues(path: Path, n: int) -> Path:
    with path.open("w") as f:
        for i in range(n):
            f.write(Dialogue(id=f"d{i}", source="user", split="test", context=f"What is {i} + {i + 2}?",
                             turns=[Turn(role="student", text=f"Is it {3 * i}?")], reference=str(2 * i + 2))
                    .model_dump_json() + "\n")
    return path


def environment(cache: Path) -> dict[str, str]:
    return {**os.environ, "SOCRATIC_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}


DEFAULT_SIGINT_EXEC = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                       "os.execv(sys.argv[1], sys.argv[1:])")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    # Ctrl-C as at a terminal: a test run started in the background of a non-interactive shell (`pytest &`)
    # ignores SIGINT, and a child would inherit that and never see the interrupt these tests send; so the
    # command starts through a Python that restores the default (exec keeps it; preexec_fn is unsafe
    # beside the fake server's threads).
    return subprocess.Popen([sys.executable, "-c", DEFAULT_SIGINT_EXEC, str(SOCRATIC), *map(str, args)],
                            stdout=handle, stderr=subprocess.STDOUT, env=env)


def finish(args: list[str], env: dict[str, str], log: Path, timeout: float = 300) -> str:
    process = start(args, env, log)
    code = process.wait(timeout)
    text = log.read_text(errors="replace")
    assert code == 0, text[-3000:]
    assert "Traceback" not in text
    return text


def wait_for(process: subprocess.Popen, ready: Callable[[], bool], log: Path, timeout: float = 240) -> None:
    """Return as soon as `ready()` holds; fail if the process ends first (the moment was missed) or never gets there."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the process ended (code {process.returncode}) before the moment came:\n"
                        f"{log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the moment never came")
        time.sleep(0.01)


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], log: Path, timeout: float = 240) -> None:
    """SIGKILL `process` as soon as `ready()` holds."""
    wait_for(process, ready, log, timeout)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


# ------------------------------------------------------------------------------------------ generate

def slow_generate(data: Path, url: str) -> list:
    """`socratic generate` of 8 dialogues x k 3 that writes its lines one dialogue at a time over ~2.4 s.

    One request in flight (24 x 0.1 s): at the default --concurrency 8 the whole run can finish before the
    signal lands, and the test would not interrupt anything. One dialogue a batch: with two batches of 4 in
    flight sharing that one request, both finished near the end and the signal could come after all 24 lines.
    """
    return ["generate", "--dataset", data, "--model", f"openai:tutor@{url}", "-k", "3", "--max-new-tokens", "16",
            "--concurrency", "1", "--batch-dialogues", "1"]


def test_generate_killed_then_rerun_equals_an_uninterrupted_run(tmp_path):
    data = write_dialogues(tmp_path / "dialogues.jsonl", 8)
    with FakeLLM(deterministic) as server:
        args = slow_generate(data, server.url)
        finish([*args, "-o", tmp_path / "reference.jsonl"], environment(tmp_path / "ref-cache.sqlite"),
               tmp_path / "ref.log")

        env, out, log = environment(tmp_path / "cache.sqlite"), tmp_path / "candidates.jsonl", tmp_path / "run.log"
        kill_when(start([*args, "-o", out], env, log), lambda: count_lines(out) >= 4, log)
        killed = out.read_bytes()
        assert 4 <= killed.count(b"\n") < 24
        # A kill between two fsynced lines of a dialogue, plus a torn half line: the worst case on disk.
        complete = killed.splitlines(keepends=True)
        if len(complete) % 3 == 0:
            complete = complete[:-1]
        out.write_bytes(b"".join(complete) + complete[0][:50])

        finish([*args, "-o", out], env, log)
    records = read_jsonl(out, Candidate)  # strict: every line valid
    assert Counter((c.dialogue.id, c.index) for c in records) == Counter(
        {(f"d{i}", k): 1 for i in range(8) for k in range(3)})
    assert out.read_text() == (tmp_path / "reference.jsonl").read_text()
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------------ judge

def test_judge_killed_leaves_the_old_output_and_resumes_from_the_cache(tmp_path):
    env, log = environment(tmp_path / "cache.sqlite"), tmp_path / "run.log"
    candidates = tmp_path / "candidates.jsonl"
    out = tmp_path / "judgments.jsonl"
    out.write_text("a previous run's judgments\n")
    with FakeLLM(deterministic) as server:
        finish(["generate", "--dataset", write_dialogues(tmp_path / "d.jsonl", 12), "--model",
                f"openai:tutor@{server.url}", "-k", "2", "-o", candidates], env, log)
        server.answered = 0
        args = ["judge", "-i", candidates, "--judge", f"llm:openai:judge@{server.url}", "--concurrency", "2",
                "-o", out]
        kill_when(start(args, env, log), lambda: server.answered >= 8, log)
        answered_before = server.answered
        assert out.read_text() == "a previous run's judgments\n"  # written atomically at the end, or not at all
        asked_before = len(server.requests)
        finish(args, env, log)
        asked_again = len(server.requests) - asked_before

        # The same judge from scratch (another cache) for comparison.
        finish([*args[:-1], tmp_path / "reference.jsonl"], environment(tmp_path / "ref-cache.sqlite"), log)
    judgments = read_jsonl(out, Judgment)
    assert [(j.dialogue.id, j.meta["index"]) for j in judgments] == [(f"d{i}", k) for i in range(12) for k in range(2)]
    assert all(j.error is None for j in judgments)
    # Judgments that arrived before the kill were cached and not asked again; each is cached as soon as
    # it is back, so only the requests in flight (up to the concurrency, 2) are asked twice.
    assert asked_again <= 24 - answered_before + 2
    assert out.read_text() == (tmp_path / "reference.jsonl").read_text()
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------------ evaluate

def test_evaluate_killed_twice_then_rerun_equals_an_uninterrupted_run(tmp_path):
    # 2 models x 12 dialogues: the judging runs in two chunks of 16, so a kill lands between them.
    data = write_dialogues(tmp_path / "dialogues.jsonl", 12)
    log = tmp_path / "run.log"
    with FakeLLM(deterministic) as server:
        def args(out: Path) -> list:
            return ["evaluate", "--model", f"a=openai:tutor-a@{server.url}", "--model",
                    f"b=openai:tutor-b@{server.url}", "--dataset", data, "--judge", f"llm:openai:judge@{server.url}",
                    "--batch-size", "1", "--max-new-tokens", "16", "--no-report", "-o", out]

        finish(args(tmp_path / "reference"), environment(tmp_path / "ref-cache.sqlite"), log)
        env, out = environment(tmp_path / "cache.sqlite"), tmp_path / "eval"
        # Killed while producing replies, then while judging them.
        kill_when(start(args(out), env, log), lambda: count_lines(out / "replies.jsonl") >= 5, log)
        assert not (out / "evaluation.json").exists()
        kill_when(start(args(out), env, log), lambda: count_lines(out / "judgments.jsonl") >= 16, log)
        assert not (out / "evaluation.json").exists()
        finish(args(out), env, log)

    for name in ("replies.jsonl", "judgments.jsonl"):
        keys = [(r["model"] if "model" in r else r["meta"]["model"], r["dialogue"]["id"])
                for r in map(json.loads, (out / name).read_text().splitlines())]
        assert Counter(keys) == Counter({(m, f"d{i}"): 1 for m in "ab" for i in range(12)}), name
        assert (out / name).read_text() == (tmp_path / "reference" / name).read_text(), name
    evaluation = json.loads((out / "evaluation.json").read_text())
    reference = json.loads((tmp_path / "reference" / "evaluation.json").read_text())
    assert [(r["model"], r["n"], r["failed"]) for r in evaluation["results"]] == [("a", 12, 0), ("b", 12, 0)]
    assert evaluation["results"] == reference["results"] and evaluation["paired"] == reference["paired"]
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------------ Ctrl-C

def interrupt_when(process: subprocess.Popen, ready: Callable[[], bool], log: Path, timeout: float = 240) -> int:
    """SIGINT `process` (what Ctrl-C sends) as soon as `ready()` holds; its exit code."""
    wait_for(process, ready, log, timeout)
    process.send_signal(signal.SIGINT)
    return process.wait(60)


def interrupted_cleanly(code: int, log: Path) -> None:
    text = log.read_text(errors="replace")
    assert code == 130, text[-3000:]
    assert text.rstrip().endswith("interrupted; re-run the same command to resume"), text[-3000:]
    assert "Traceback" not in text


def test_ctrl_c_during_generate_exits_130_with_the_resume_hint_and_the_rerun_resumes(tmp_path):
    # Issue 41: Ctrl-C exited 0, so `socratic evaluate ... && socratic report ...` carried on after an interrupted stage.
    data = write_dialogues(tmp_path / "dialogues.jsonl", 8)
    with FakeLLM(deterministic) as server:
        args = slow_generate(data, server.url)
        finish([*args, "-o", tmp_path / "reference.jsonl"], environment(tmp_path / "ref-cache.sqlite"),
               tmp_path / "ref.log")
        env, out, log = environment(tmp_path / "cache.sqlite"), tmp_path / "candidates.jsonl", tmp_path / "run.log"
        interrupted_cleanly(interrupt_when(start([*args, "-o", out], env, log), lambda: count_lines(out) >= 4, log), log)
        assert count_lines(out) < 24
        finish([*args, "-o", out], env, tmp_path / "rerun.log")
    assert out.read_text() == (tmp_path / "reference.jsonl").read_text()


def test_ctrl_c_during_a_pipeline_run_exits_130_and_the_plan_resumes_the_stage(tmp_path):
    # A real run of the embedded model, interrupted once its first stage has started (its pending marker is written).
    config = tmp_path / "run.yaml"
    config.write_text(f"name: ctrl-c\nout: {tmp_path / 'run'}\nmodel: embedded\n"
                      "datasets:\n  train: [{source: mathdial, split: train, limit: 2}]\n"
                      "  test: [{source: mathdial, split: test, limit: 2}]\n"
                      "generate: {k: 2, max_new_tokens: 8}\nreward_judge: qmark\neval_judges: [qmark]\n")
    env, log = environment(tmp_path / "cache.sqlite"), tmp_path / "run.log"
    pending = tmp_path / "run" / ".stages" / "generate--mathdial.pending.json"
    interrupted_cleanly(interrupt_when(start(["run", config], env, log), pending.exists, log), log)
    plan = finish(["run", config, "--dry-run"], env, tmp_path / "plan.log")
    assert re.search(r"generate:mathdial\s.*resume", plan), plan


# ------------------------------------------------------------------------------------------ train

PROBLEMS = [("Tom has 3 apples and buys 4 more. How many now?", "7"),
            ("What is 12 divided by 4?", "3"),
            ("A box holds 6 eggs. How many eggs in 4 boxes?", "24"),
            ("Sara reads 5 pages a day. How many in a week?", "35")]


def write_pairs(path: Path) -> Path:
    with path.open("w") as f:
        for i, (problem, answer) in enumerate(PROBLEMS):
            dialogue = Dialogue(id=f"p{i}", source="test", split="train", context=problem,
                                turns=[Turn(role="student", text="Can you help?")], reference=answer)
            f.write(json.dumps({"prompt": render_messages(dialogue),
                                "chosen": [{"role": "assistant", "content": "What numbers do you see?"}],
                                "rejected": [{"role": "assistant", "content": f"It is {answer}."}],
                                "chosen_score": 1.0, "rejected_score": 0.25, "dialogue_id": dialogue.id}) + "\n")
    return path


def checkpoint_saved(out: Path, step: int) -> bool:
    try:
        return json.loads((out / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").read_text())[
            "global_step"] == step
    except (OSError, ValueError):
        return False


@pytest.mark.slow
def test_train_killed_after_a_checkpoint_resumes_from_it(tmp_path):
    (tmp_path / "system.md").write_text("You are a Socratic tutor. Answer with a guiding question.")
    out, log, env = tmp_path / "model", tmp_path / "train.log", environment(tmp_path / "cache.sqlite")
    args = ["train", "--pairs", write_pairs(tmp_path / "pairs.jsonl"), "--model", "embedded", "-o", out,
            "--max-steps", "3", "--save-steps", "1", "--batch-size", "1", "--grad-accum", "1", "--max-length", "160",
            "--max-prompt-length", "128", "--system-prompt", tmp_path / "system.md"]
    kill_when(start(args, env, log), lambda: checkpoint_saved(out, 1), log)
    assert not (out / "train_summary.json").exists() and not (out / "config.json").exists()
    read_jsonl_lines(out / "metrics.jsonl")  # valid after the kill

    refused = subprocess.run([str(SOCRATIC), *map(str, args)], capture_output=True, text=True, check=False, env=env,
                             timeout=300)
    assert refused.returncode == 2 and "--resume" in refused.stderr and "Traceback" not in refused.stderr

    text = finish([*args, "--resume"], env, log)
    assert re.search(r"resuming from checkpoint-\d", text)
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["resumed_from_step"] >= 1 and summary["steps"] == 3
    steps = [r["step"] for r in read_jsonl_lines(out / "metrics.jsonl") if "loss" in r]
    assert steps == [1, 2, 3]  # none lost, none logged twice
    assert (out / "config.json").exists() and (out / "adapter" / "adapter_config.json").exists()


def read_jsonl_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
