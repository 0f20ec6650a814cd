"""Fast tests of the training stage's pure parts: prompt fitting, pair reading, config, monitoring."""

from __future__ import annotations

import json
import re

import pytest

from socratic.errors import ConfigError, InputError, SocraticError
from socratic.records import Dialogue, Turn
from socratic.render import render_messages
from socratic.train.rows import (
    CONTEXT_MARKER,
    ELISION,
    PromptTooLong,
    chat_token_counter,
    fit_prompt,
    prepare_pairs,
    read_pairs,
)


def words(messages):
    """A fake tokenizer: one token per word, plus 2 per message (its role header and end)."""
    return sum(len(m["content"].split()) + 2 for m in messages)


SYSTEM = {"role": "system", "content": "Be Socratic ."}  # 3 words -> 5 tokens


def conversation():
    return [SYSTEM,
            {"role": "user", "content": "u1 " * 10},
            {"role": "assistant", "content": "a1 " * 10},
            {"role": "user", "content": "u2 " * 10},
            {"role": "assistant", "content": "a2 " * 10},
            {"role": "user", "content": "last question ?"}]


# --- fit_prompt ------------------------------------------------------------------------------------

def test_a_prompt_that_fits_is_returned_unchanged_as_a_copy():
    messages = conversation()
    assert words(messages) == 5 + 4 * 12 + 5
    fitted = fit_prompt(messages, words, 58)
    assert fitted == messages and fitted is not messages


def test_oldest_turns_go_first_and_system_and_last_turn_stay():
    messages = conversation()
    # 58 tokens in all; 45 fits once u1 and a1 are gone (5 + 24 + 5 = 34), not with only u1 gone (46).
    fitted = fit_prompt(messages, words, 45)
    assert fitted == [messages[0], messages[3], messages[4], messages[5]]
    assert messages == conversation()  # the input is left alone


def test_the_kept_conversation_restarts_on_a_student_turn():
    # [system, a2, last] (22 tokens) would fit 22, but a conversation must not open on a tutor turn.
    fitted = fit_prompt(conversation(), words, 22)
    assert fitted == [SYSTEM, conversation()[-1]]


def test_the_reference_failure_cannot_happen_with_a_real_tokenizer(tokenizer):
    """The reference kept the last 128 tokens and lost the instructions; here they survive any length."""
    turns = []
    for i in range(12):
        turns += [Turn(role="student", text=f"Attempt {i}: I think the answer is {i * 7} because I added wrong."),
                  Turn(role="tutor", text=f"Let us look at step {i} again. What did you add first?")]
    turns.append(Turn(role="student", text="So is it 42 then?"))
    dialogue = Dialogue(id="long", source="test", split="test", context="John has 6 bags of 7 apples.",
                        turns=turns)
    messages = render_messages(dialogue)
    count = chat_token_counter(tokenizer)
    assert count(messages) > 400
    fitted = fit_prompt(messages, count, 260)
    assert count(fitted) <= 260
    assert fitted[0] == messages[0]  # the whole tutor prompt, context included
    assert fitted[-1] == {"role": "user", "content": "So is it 42 then?"}
    assert fitted[1]["role"] == "user" and fitted[1:] == messages[-len(fitted) + 1:]  # a suffix of the turns


def test_context_is_shortened_from_the_middle_when_turns_are_not_enough():
    context = " ".join(f"c{i}" for i in range(40))
    system = {"role": "system", "content": f"Be Socratic .{CONTEXT_MARKER}{context}"}
    messages = [system, {"role": "user", "content": "old " * 5}, {"role": "assistant", "content": "reply"},
                {"role": "user", "content": "help me"}]
    fitted = fit_prompt(messages, words, 30)
    assert [m["role"] for m in fitted] == ["system", "user"] and fitted[1]["content"] == "help me"
    text = fitted[0]["content"]
    head, marker, kept = text.partition(CONTEXT_MARKER)
    assert head == "Be Socratic ." and marker
    assert ELISION in kept and kept.startswith("c0 c1") and kept.endswith("c38 c39")
    assert words(fitted) <= 30
    # The most context that fits is kept: one more character would not fit.
    from socratic.train.rows import _with_context_kept

    kept_chars = len(kept) - len(ELISION)
    longer = [{"role": "system", "content": _with_context_kept(system["content"], kept_chars + 1)}, fitted[1]]
    assert words(longer) > 30


def test_instructions_and_last_turn_that_cannot_fit_raise_a_clear_error():
    messages = [{"role": "system", "content": "rule " * 30}, {"role": "user", "content": "hi"}]
    with pytest.raises(PromptTooLong, match="instructions and the student's last turn"):
        fit_prompt(messages, words, 20)
    with_context = [{"role": "system", "content": "rule " * 30 + CONTEXT_MARKER + "ctx " * 50},
                    {"role": "user", "content": "hi"}]
    with pytest.raises(PromptTooLong):
        fit_prompt(with_context, words, 20)


def test_render_still_uses_the_marker_that_fit_prompt_relies_on():
    dialogue = Dialogue(id="d", source="t", split="t", context="2 + 2", turns=[Turn(role="student", text="hi")])
    assert CONTEXT_MARKER in render_messages(dialogue)[0]["content"]


# --- pairs -----------------------------------------------------------------------------------------

def pair_line(prompt=None, chosen="What is 2 + 2?", rejected="It is 4.", **extra):
    prompt = prompt or [SYSTEM, {"role": "user", "content": "what is 2 + 2"}]
    return json.dumps({"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                       "rejected": [{"role": "assistant", "content": rejected}], **extra})


def test_read_pairs_names_file_line_and_field(tmp_path):
    path = tmp_path / "pairs.jsonl"
    bad = json.loads(pair_line())
    bad["chosen"][0]["role"] = "user"
    path.write_text(pair_line() + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"pairs.jsonl:2: field 'chosen'"):
        read_pairs(path)
    path.write_text(pair_line(prompt=[SYSTEM, {"role": "user", "content": "q"},
                                      {"role": "assistant", "content": "a"}]) + "\n")
    with pytest.raises(InputError, match=r":1: field 'prompt'.*end on the student"):
        read_pairs(path)
    path.write_text(pair_line(chosen="same", rejected="same") + "\n")
    with pytest.raises(InputError, match="identical"):
        read_pairs(path)
    path.write_text("")
    with pytest.raises(InputError, match="no preference pairs"):
        read_pairs(path)


def test_prepare_pairs_leaves_room_for_the_longest_reply(tokenizer, tmp_path):
    long_turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " * 20}
                  for i in range(9)]
    path = tmp_path / "pairs.jsonl"
    path.write_text(pair_line(dialogue_id="short") + "\n"
                    + pair_line(prompt=[SYSTEM] + long_turns, chosen="Why? " * 30, dialogue_id="long") + "\n")
    pairs = read_pairs(path)
    rows, stats = prepare_pairs(pairs, tokenizer, max_length=200, max_prompt_length=160)
    count = chat_token_counter(tokenizer)
    assert stats.pairs == 2 and stats.prompts_shortened == 1 and stats.completions_cut == 0
    assert rows[0]["prompt"] == [m.model_dump() for m in pairs[0].prompt]
    long_prompt = rows[1]["prompt"]
    assert long_prompt[0] == SYSTEM and long_prompt[-1] == long_turns[-1]
    full = tokenizer.apply_chat_template(long_prompt + rows[1]["chosen"], tokenize=True)["input_ids"]
    assert len(full) <= 200  # prompt + longest reply: TRL will not cut anything
    assert count(long_prompt) <= 160


def test_prepare_pairs_refuses_a_prompt_whose_fixed_parts_do_not_fit(tokenizer, tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(pair_line() + "\n" + pair_line(prompt=[{"role": "system", "content": "rule " * 200},
                                                           {"role": "user", "content": "hi"}]) + "\n")
    with pytest.raises(InputError, match=r"pairs.jsonl:2: field 'prompt'.*instructions"):
        prepare_pairs(read_pairs(path), tokenizer, max_length=128, max_prompt_length=100, source=str(path))


# --- config ----------------------------------------------------------------------------------------

def test_loss_types_match_the_installed_trl():
    from trl import DPOConfig

    from socratic.train.dpo import LOSS_TYPES

    help_text = DPOConfig.__dataclass_fields__["loss_type"].metadata["help"]
    assert set(LOSS_TYPES) == set(re.findall(r"`'(\w+)'`", help_text))


def test_config_lists_every_problem_at_once(tmp_path):
    from socratic.config import load_config
    from socratic.train.dpo import TrainConfig

    with pytest.raises(ConfigError) as error:
        load_config(TrainConfig, None, {"pairs": "p.jsonl", "model": "nope", "loss_type": "magic", "lora_r": 0})
    message = str(error.value)
    for field in ("'model'", "'out'", "'loss_type'", "'lora_r'"):
        assert field in message
    with pytest.raises(ConfigError, match="max_prompt_length"):
        load_config(TrainConfig, None, {"pairs": "p", "out": "o", "max_length": 100, "max_prompt_length": 100})
    config = TrainConfig(pairs="p", out="o")
    assert config.lr == 2e-4 and TrainConfig(pairs="p", out="o", lora=False).lr == 5e-6
    yaml_path = tmp_path / "c.yaml"
    yaml_path.write_text("pairs: p\nout: o\nbeta: 0.3\nlora: false\n")
    assert load_config(TrainConfig, yaml_path, {"beta": 0.5, "lora": None}).model_dump()["beta"] == 0.5
    assert load_config(TrainConfig, yaml_path, {}).lora is False


def test_cli_reports_a_bad_option_as_one_line_and_exit_2(monkeypatch, capsys):
    from socratic import cli

    monkeypatch.setattr("sys.argv", ["socratic", "train", "--pairs", "p.jsonl", "-o", "o", "--loss-type", "x"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    assert "loss_type" in capsys.readouterr().err


def test_model_spec_must_name_local_weights(tmp_path):
    from socratic.train.dpo import resolve_model_dir

    with pytest.raises(SocraticError, match="local weights"):
        resolve_model_dir("openai:gpt-4o")
    with pytest.raises(SocraticError, match="no config.json"):
        resolve_model_dir(f"hf:{tmp_path}")
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(SocraticError, match="is an adapter"):
        resolve_model_dir(f"hf:{tmp_path}")


# --- checkpoints and the output folder --------------------------------------------------------------

def test_last_checkpoint_skips_one_torn_by_a_kill(tmp_path):
    from socratic.train.dpo import last_checkpoint

    assert last_checkpoint(tmp_path / "checkpoints") is None
    for step, state in ((5, '{"global_step": 5}'), (10, '{"global_step": 10}'), (15, '{"global_st')):
        (tmp_path / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (tmp_path / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoints" / "checkpoint-20").mkdir()  # killed before the state was written
    assert last_checkpoint(tmp_path / "checkpoints").name == "checkpoint-10"


def test_output_folder_is_never_clobbered(tmp_path):
    from socratic.train.dpo import FINISHED_MARKER, TrainConfig, _check_out_folder

    out = tmp_path / "out"
    config = TrainConfig(pairs="p", out=out)
    assert _check_out_folder(config) is None
    (out / "checkpoints" / "checkpoint-3").mkdir(parents=True)
    (out / "checkpoints" / "checkpoint-3" / "trainer_state.json").write_text('{"global_step": 3}')
    with pytest.raises(SocraticError, match="--resume"):
        _check_out_folder(config)
    resumed = config.model_copy(update={"resume": True})
    assert _check_out_folder(resumed).name == "checkpoint-3"
    (out / "train_config.json").write_text(config.model_copy(update={"beta": 0.5}).model_dump_json())
    with pytest.raises(SocraticError, match="different config.*beta"):
        _check_out_folder(resumed)
    (out / FINISHED_MARKER).write_text("{}")
    with pytest.raises(SocraticError, match="finished"):
        _check_out_folder(config)
    from socratic.train.dpo import run

    assert run(resumed) == out  # resuming a finished run is a no-op, so a pipeline can re-run safely
    stranger = tmp_path / "home"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(SocraticError, match="not a `socratic train` folder"):
        _check_out_folder(TrainConfig(pairs="p", out=stranger))


# --- monitoring ------------------------------------------------------------------------------------

def logs(key, values, **extra):
    return [{"step": i + 1, "loss": 0.5, key: v, **extra} for i, v in enumerate(values)]


def test_warning_when_chosen_logps_fall_steadily():
    from socratic.train.monitor import chosen_logps_falling, find_warnings

    falling = logs("logps/chosen", [-40, -42, -45, -44, -48, -52, -55, -60])
    assert "fell steadily" in chosen_logps_falling(falling)
    assert chosen_logps_falling(logs("logps/chosen", [-40, -39, -41, -40, -38, -40, -39, -40])) is None
    assert chosen_logps_falling(falling[:4]) is None  # too few points to tell
    assert [w["kind"] for w in find_warnings(falling, 100)] == ["chosen_logps_falling"]


def test_warning_when_accuracy_sits_at_one_early():
    from socratic.train.monitor import accuracy_saturated_early

    early = logs("rewards/accuracies", [0.5, 1.0, 1.0, 1.0, 0.75])
    assert "by step 4 of 40" in accuracy_saturated_early(early, total_steps=40)
    assert accuracy_saturated_early(logs("rewards/accuracies", [0.5, 1.0, 0.75, 1.0, 1.0]), 40) is None
    late = [{"step": s, "loss": 0.1, "rewards/accuracies": 1.0} for s in (30, 31, 32)]
    assert accuracy_saturated_early(late, total_steps=40) is None  # at 1.0 late in training is expected


def test_metrics_truncation_and_curve(tmp_path):
    from socratic.train.monitor import final_metrics, plot_training_curve, read_metrics, truncate_metrics

    path = tmp_path / "metrics.jsonl"
    records = [{"step": s, "loss": 0.7 - s / 10, "rewards/margins": s / 10, "logps/chosen": -30.0 + s}
               for s in (1, 2, 3, 4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"step": 5, "lo')  # torn by a kill
    assert [r["step"] for r in read_metrics(path)] == [1, 2, 3, 4]
    truncate_metrics(path, 2)
    assert [r["step"] for r in read_metrics(path)] == [1, 2]
    assert final_metrics(read_metrics(path))["loss"] == pytest.approx(0.5)
    png = plot_training_curve(read_metrics(path), tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_training_curve([], tmp_path / "none.png") is None


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from socratic.backends.embedded import embedded_model_dir

    return AutoTokenizer.from_pretrained(embedded_model_dir())


def test_the_metrics_callback_writes_versioned_lines_and_warnings(tmp_path):
    from types import SimpleNamespace

    from socratic.train.artifacts import TrainWarnings
    from socratic.train.monitor import MetricsCallback

    callback = MetricsCallback(tmp_path)
    for step in (1, 2, 3):  # Trainer logs carry their own `epoch`: it wins over the state's, as before
        state = SimpleNamespace(is_world_process_zero=True, global_step=step, epoch=step / 4, max_steps=40)
        callback.on_log(None, state, None, logs={"loss": 0.5, "rewards/accuracies": 1.0, "epoch": step / 2,
                                                 "note": ["not a number"]})
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").open()]
    assert [(r["version"], r["step"], r["epoch"]) for r in lines] == [(1, 1, 0.5), (1, 2, 1.0), (1, 3, 1.5)]
    assert "note" not in lines[0]
    warnings = TrainWarnings.read(tmp_path / "warnings.json")
    assert warnings.version == 1 and [w.kind for w in warnings.warnings] == ["accuracy_saturated_early"]
