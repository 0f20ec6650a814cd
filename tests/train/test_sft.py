"""The SFT warm-up: its config taken from the DPO run it prepares, its rows (the chosen replies, the teachers'
turns, or both), and (slow) real runs on the embedded model that train on the replies only and leave a model
folder DPO can start from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fakes.data import PROBLEMS, write_pairs
from socratic.data.teacher_turns import load_teacher_turns
from socratic.errors import SocraticError
from socratic.render import render_messages
from socratic.train import sft, starting_model
from socratic.train.dpo import TrainConfig


@pytest.fixture
def data_here(shared_data, monkeypatch):
    monkeypatch.setenv("SOCRATIC_DATA_DIR", str(shared_data))


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from socratic.backends.embedded import embedded_model_dir

    return AutoTokenizer.from_pretrained(embedded_model_dir())


def test_the_warm_up_shares_the_dpo_runs_adapter_and_budget_and_keeps_its_own_schedule(tmp_path):
    dpo = TrainConfig(pairs=tmp_path / "pairs.jsonl", out=tmp_path / "dpo", model="hf:/models/base", seed=7,
                      lora_r=8, lora_alpha=16, max_length=512, max_prompt_length=400, bf16=False, epochs=3,
                      learning_rate=1e-5, batch_size=4)
    warm = sft.warm_up_config(sft.SftSettings(epochs=1, batch_size=1), dpo, tmp_path / "sft")
    assert (warm.pairs, warm.out, warm.model, warm.seed) == (dpo.pairs, tmp_path / "sft", "hf:/models/base", 7)
    assert (warm.lora, warm.lora_r, warm.lora_alpha, warm.max_length, warm.max_prompt_length, warm.bf16) == (
        True, 8, 16, 512, 400, False)
    assert (warm.epochs, warm.batch_size) == (1, 1)  # its own schedule, not DPO's 3 epochs of 4
    assert warm.lr == 2e-4  # DPO's default for a LoRA, not the DPO run's own 1e-5
    full = sft.warm_up_config(sft.SftSettings(), dpo.model_copy(update={"lora": False}), tmp_path / "sft")
    assert full.lr == 5e-6
    assert sft.warm_up_config(sft.SftSettings(learning_rate=3e-4), dpo, tmp_path / "sft").lr == 3e-4
    assert warm.lora_dropout == dpo.lora_dropout == 0.05  # DPO's dropout unless the warm-up sets its own
    own = sft.warm_up_config(sft.SftSettings(lora_dropout=0.0), dpo, tmp_path / "sft")
    assert (own.lora_dropout, starting_model.lora_config(own).lora_dropout, dpo.lora_dropout) == (0.0, 0.0, 0.05)


def test_the_warm_up_imitates_the_teachers_of_its_training_dataset_unless_told(tmp_path):
    dpo = TrainConfig(pairs=tmp_path / "pairs.jsonl", out=tmp_path / "dpo")
    chosen = sft.warm_up_config(sft.SftSettings(), dpo, tmp_path / "sft", dataset="mathdial")
    assert chosen.data == "chosen" and chosen.teacher_sources is None  # the default is unchanged
    teacher = sft.warm_up_config(sft.SftSettings(data="teacher"), dpo, tmp_path / "sft", dataset="mathdial")
    assert teacher.teacher_sources == ["mathdial"]
    both = sft.warm_up_config(sft.SftSettings(data="both"), dpo, tmp_path / "sft", dataset="debugging")
    assert both.teacher_sources == ["debugging", "debugging-raw"]
    named = sft.SftSettings(data="teacher", teacher_sources=["mathdial", "debugging"])
    assert sft.warm_up_config(named, dpo, tmp_path / "sft", dataset="x.jsonl").teacher_sources == [
        "mathdial", "debugging"]
    with pytest.raises(SocraticError, match="no teacher turns known for the training dataset 'x.jsonl'"):
        sft.warm_up_config(sft.SftSettings(data="teacher"), dpo, tmp_path / "sft", dataset="x.jsonl")
    with pytest.raises(SocraticError, match="written by a model"):
        sft.warm_up_config(sft.SftSettings(data="teacher"), dpo, tmp_path / "sft", dataset="tutorchat")
    assert sft.warm_up_config(sft.SftSettings(data="teacher", model_written=True), dpo, tmp_path / "sft",
                              dataset="tutorchat").teacher_sources == ["tutorchat"]
    with pytest.raises(ValueError, match="data"):
        sft.SftSettings(data="teachers")


def test_teacher_rows_are_the_teachers_turns_after_the_prompt_every_stage_renders(tmp_path, tokenizer, data_here):
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    dpo = TrainConfig(pairs=pairs, out=tmp_path / "dpo", max_length=768, max_prompt_length=640)  # as cpu.yaml
    config = sft.warm_up_config(sft.SftSettings(data="teacher"), dpo, tmp_path / "sft", dataset="mathdial")
    rows, stats, what = sft.training_rows(config, tokenizer)
    turns = load_teacher_turns(("mathdial",))
    assert len(rows) == stats.pairs == len(turns) == 1073 and stats.skipped == 0
    assert "1073 teacher turns of mathdial (" in what
    assert all(row["completion"] == [{"role": "assistant", "content": t.reply}] for row, t in zip(rows, turns))
    assert rows[0]["prompt"] == render_messages(turns[0].dialogue)  # short: as rendered, whole
    assert stats.longest_prompt <= 640
    assert all(row["prompt"][0]["role"] == "system" and row["prompt"][-1]["role"] == "user" for row in rows)
    few = config.model_copy(update={"data": "both", "teacher_sources": ["debugging"]})
    both, both_stats, what = sft.training_rows(few, tokenizer)
    debugging = load_teacher_turns(("debugging",))
    assert len(both) == len(PROBLEMS) + len(debugging) == both_stats.pairs
    assert what.startswith(f"the chosen replies of {len(PROBLEMS)} pairs")
    assert [row["completion"][0]["content"] for row in both[len(PROBLEMS):]] == [t.reply for t in debugging]
    with pytest.raises(SocraticError, match="needs pairs"):
        sft.training_rows(few.model_copy(update={"pairs": None}), tokenizer)


def test_skip_openings_leaves_out_the_turns_that_open_a_conversation(tmp_path, data_here):
    dpo = TrainConfig(pairs=tmp_path / "pairs.jsonl", out=tmp_path / "dpo")
    config = sft.warm_up_config(sft.SftSettings(data="teacher"), dpo, tmp_path / "sft", dataset="mathdial")
    every = sft.teacher_examples(config)
    later = sft.teacher_examples(config.model_copy(update={"skip_openings": True}))
    turns = load_teacher_turns(("mathdial",))
    openings = [t for t in turns if sft.is_opening(t.dialogue)]
    assert len(every) == 1073 and len(openings) == 393 and len(later) == 1073 - 393
    # What is left are the replies to a student who has already talked with the tutor.
    assert [reply[0]["content"] for _, reply in later] == [t.reply for t in turns if not sft.is_opening(t.dialogue)]
    assert all(any(m["role"] == "assistant" for m in prompt) for prompt, _ in later)
    # The formula it leaves out: half the openings ask the student to walk the tutor through the solution.
    formula = re.compile(r"(walk|talk) me through|explain your (solution|answer)", re.IGNORECASE)
    assert sum(bool(formula.search(t.reply)) for t in openings) == 195


def test_teacher_moves_keeps_the_turns_whose_move_tags_are_all_named(tmp_path, data_here):
    dpo = TrainConfig(pairs=tmp_path / "pairs.jsonl", out=tmp_path / "dpo")
    config = sft.warm_up_config(sft.SftSettings(data="teacher", teacher_moves=["focus", "probing"]), dpo,
                                tmp_path / "sft", dataset="mathdial")
    kept = [reply[0]["content"] for _, reply in sft.teacher_examples(config)]
    turns = load_teacher_turns(("mathdial",))
    pointing = [t.reply for t in turns if set(t.meta["moves"]) <= {"focus", "probing"}]
    # 314 focus, 334 probing, 2 probing twice, 1 focus three times and 1 focus then probing (of 1,073)
    assert kept == pointing and len(kept) == 652
    # Turns without move tags (Socratic Debugging's) are kept whatever the moves named.
    debugging = sft.warm_up_config(sft.SftSettings(data="teacher", teacher_moves=["focus"]), dpo, tmp_path / "sft",
                                   dataset="debugging")
    assert len(sft.teacher_examples(debugging)) == len(sft.teacher_examples(
        debugging.model_copy(update={"teacher_moves": None})))


def test_teacher_examples_too_long_for_the_budget_are_left_out_and_counted(tokenizer):
    from socratic.errors import InputError
    from socratic.train.rows import prepare_completions

    short = ([{"role": "system", "content": "Be Socratic."}, {"role": "user", "content": "Is it 6?"}],
             [{"role": "assistant", "content": "What is 2 + 3?"}])
    long = ([{"role": "system", "content": "Be Socratic."}, {"role": "user", "content": "word " * 200}],
            [{"role": "assistant", "content": "Which step?"}])
    rows, stats = prepare_completions([short, long, short], tokenizer, max_length=96, max_prompt_length=64,
                                      skip_too_long=True)
    assert (len(rows), stats.pairs, stats.skipped) == (2, 2, 1)
    assert rows[0] == {"prompt": short[0], "completion": short[1]}
    with pytest.raises(InputError, match="teacher turns:2: field 'prompt'"):
        prepare_completions([short, long], tokenizer, max_length=96, max_prompt_length=64, source="teacher turns")


def test_completion_rows_put_the_chosen_reply_after_the_prompt():
    prompt = [{"role": "system", "content": "tutor"}, {"role": "user", "content": "Is it 6?"}]
    rows = [{"prompt": prompt, "chosen": [{"role": "assistant", "content": "What is 2 + 3?"}],
             "rejected": [{"role": "assistant", "content": "It is 5."}]}]
    assert sft.completion_rows(rows) == [{"prompt": prompt,
                                          "completion": [{"role": "assistant", "content": "What is 2 + 3?"}]}]


@pytest.mark.slow
def test_a_real_warm_up_learns_the_chosen_replies_only_and_leaves_a_model_dpo_starts_from(tmp_path, monkeypatch):
    """Embedded model, 5 hand-made pairs, 3 steps (~1 min on 2 CPUs)."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    from socratic.backends.embedded import embedded_model_dir
    from socratic.train import dpo

    pairs = write_pairs(tmp_path / "pairs.jsonl")
    seen = {}
    original_train = SFTTrainer.train

    def spy(self, *args, **kwargs):  # the rows as TRL will train on them
        seen["rows"] = [self.train_dataset[i] for i in range(len(self.train_dataset))]
        return original_train(self, *args, **kwargs)

    monkeypatch.setattr(SFTTrainer, "train", spy)
    config = sft.warm_up_config(
        sft.SftSettings(max_steps=3, batch_size=5, grad_accum=1, learning_rate=1e-3),
        TrainConfig(pairs=pairs, out=tmp_path / "dpo", max_length=256, max_prompt_length=192),
        tmp_path / "sft")
    out = sft.run(config)

    # The loss is on the reply alone: the tokens with labels spell the chosen reply (and its end-of-turn).
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert len(seen["rows"]) == len(PROBLEMS)
    for row in seen["rows"]:
        trained = tokenizer.decode([t for t, label in zip(row["input_ids"], row["labels"]) if label != -100])
        assert trained.startswith("What numbers does the problem give you?") and "Tom has" not in trained

    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["kind"] == "sft" and summary["steps"] == 3 and summary["pairs"] == len(PROBLEMS)
    assert dpo.is_finished(out) and dpo.resolve_model_dir(f"hf:{out}") == out  # DPO can start from it
    assert (out / "adapter" / "adapter_config.json").exists()
    assert [r["step"] for r in map(json.loads, (out / "metrics.jsonl").open()) if "loss" in r] == [1, 2, 3]

    # It learnt: the chosen reply is likelier under the warmed-up model than under the base.
    def reply_log_prob(folder: Path) -> float:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        row = seen["rows"][0]
        ids = torch.tensor([row["input_ids"]])
        labels = torch.tensor([row["labels"]])
        with torch.no_grad():
            return -model(input_ids=ids, labels=labels).loss.item()

    assert reply_log_prob(out) > reply_log_prob(embedded_model_dir()) + 0.5
    key = "model.layers.0.self_attn.q_proj.weight"
    assert not load_file(out / "model.safetensors")[key].equal(load_file(embedded_model_dir() / "model.safetensors")[key])
    with pytest.raises(Exception, match="already holds a finished warm-up"):
        sft.run(config)


@pytest.mark.slow
def test_a_real_warm_up_on_the_teachers_turns(tmp_path, monkeypatch, data_here):
    """Embedded model, the 1,262 MathDial teacher turns, 2 steps (~1 min on 2 CPUs)."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    from socratic.train import dpo

    seen = {}
    original_train = SFTTrainer.train

    def spy(self, *args, **kwargs):
        seen["rows"] = [self.train_dataset[i] for i in range(3)]
        seen["count"] = len(self.train_dataset)
        return original_train(self, *args, **kwargs)

    monkeypatch.setattr(SFTTrainer, "train", spy)
    config = sft.warm_up_config(
        sft.SftSettings(data="teacher", max_steps=2, batch_size=2, grad_accum=1),
        TrainConfig(pairs=tmp_path / "no-pairs.jsonl", out=tmp_path / "dpo", max_length=768, max_prompt_length=640), tmp_path / "sft",
        dataset="mathdial")
    out = sft.run(config)
    tokenizer = AutoTokenizer.from_pretrained(out)
    replies = [turn.reply for turn in load_teacher_turns(("mathdial",))]
    assert seen["count"] == len(replies) == 1073
    for row in seen["rows"]:  # the loss is on a teacher's turn alone
        trained = tokenizer.decode([t for t, label in zip(row["input_ids"], row["labels"]) if label != -100])
        assert any(trained.startswith(reply) for reply in replies), trained
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["kind"] == "sft" and summary["steps"] == 2 and summary["pairs"] == 1073
    assert json.loads((out / "train_config.json").read_text())["data"] == "teacher"
    assert dpo.is_finished(out)


def test_the_starting_model_helpers_follow_the_config():
    from socratic.train import starting_model

    dpo = TrainConfig(pairs=Path("p.jsonl"), out=Path("o"), lora_r=8, lora_alpha=16, target_modules=["q_proj"])
    adapter = starting_model.lora_config(dpo)
    assert (adapter.r, adapter.lora_alpha, adapter.target_modules) == (8, 16, {"q_proj"})
    assert starting_model.lora_config(dpo.model_copy(update={"lora": False})) is None
    for bf16 in (True, False):
        assert starting_model.trains_in_bf16(dpo.model_copy(update={"bf16": bf16}), on_cpu=True) is bf16
