"""The settings each pipeline stage keeps in its manifest (what decides a re-run) come from the fields its
config model marks as changing the stage's output (socratic.config.output_fields), and are the very ones
existing run folders were made with: a change here would re-run the stages of every run folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from socratic.config import output_fields
from socratic.errors import ConfigError
from socratic.pipeline.config import PipelineConfig
from socratic.pipeline.runner import portable
from socratic.pipeline.stages import build_stages
from socratic.store.cache import content_key
from socratic.train.sft import SftSettings

# content_key of each stage's manifest settings (paths written as <run>) for `full_config` and `minimal_config`,
# as the hand-written lists of stages.py made them before the fields were marked on the models (issue 29).
# The minimal run's pairs leave out the question filter when it is off (stages.ADDED_LATER), as pairs were
# made before the setting existed. The judge, evaluate and agreement hashes carry the judges' versions
# (judge_versions): they changed with rubric_v7 (issue 36, its correctness rule), on purpose: a changed judge
# re-judges; nothing else moved.
GOLDEN = {
    "generate:mathdial": "182875af8b9d1e33d5b10e03c238eeebd1425ff17e735044916aa2966eb43685",
    "judge:mathdial": "794924364ab1d7ed5aec43717e653444a51dadfb5e89092c50487d6540aa074d",
    "pairs:mathdial": "e7f5488db9f38486ed7184c73369b81dddac2480a2ca79cbc283982f64d03b3b",
    "sft:mathdial": "9b641ce4654847ddebf0278c7443583d7cc507bdbc81ed21ef74e93c3985ebc5",
    "train:mathdial": "e2118eb752cc06cfc60c21236f66bfa9b97bfa37b71a45aa22a4e995c2d5d039",
    "generate:mathdial:r2": "da32d6b941b6195603573a90930db59e50bc55ce02e180d4f0ee62de1460063b",
    "judge:mathdial:r2": "794924364ab1d7ed5aec43717e653444a51dadfb5e89092c50487d6540aa074d",
    "pairs:mathdial:r2": "e7f5488db9f38486ed7184c73369b81dddac2480a2ca79cbc283982f64d03b3b",
    "train:mathdial:r2": "8d1f313913ada973397e6789ebac50942ee34079b06d1de6a1ba790b4edad107",
    "evaluate": "34766a52aafa9f37690013dc88775a743bb67a064a1b8feb0a1676e338db3153",
    "agreement": "b760f55b7f2aebe5424e4f94b78c7b6498e3304d57aacc784e719fd8c6c32368",
    "report": "6079eb80166011d7ff6003472ae5b9434be644e587385dbc982152780e872ffb",
}

GOLDEN_MINIMAL = {
    "generate:debugging": "80f42fb633959f93385932aa3261698a628c34cb9fd244dfdd205b9e35b04a4b",
    "judge:debugging": "794924364ab1d7ed5aec43717e653444a51dadfb5e89092c50487d6540aa074d",
    "pairs:debugging": "7ca01a750b1a3bd7d948cf80506e26dbd7095ee140d21ad74c06993faabbeea1",
    "train:debugging": "19f7509f015337ad32d67baf43a8507af5b4aaea47af6ae6e4c4b7e492baca48",
    "evaluate": "b19be0fb132dbf07394d1da21a8e7084ef5021d0c84d0bb8cfa175b9d5b4520c",
    "report": "b40d4b640960f855d127a843223a2a2ef55425f586179a7fe10e7ad8da7c0c26",
}


def full_config(tmp_path: Path) -> PipelineConfig:
    """A run with every optional stage: a system prompt, the SFT warm-up, two rounds, labels, references."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "prompt.txt").write_text("Be Socratic.", encoding="utf-8")
    (run / "labels.jsonl").write_text("", encoding="utf-8")
    return PipelineConfig.model_validate({
        "name": "golden", "out": str(run), "model": "embedded", "seed": 3, "system_prompt": str(run / "prompt.txt"),
        "datasets": {"train": [{"source": "mathdial", "limit": 2}], "test": [{"source": "debugging", "limit": 2}]},
        "generate": {"k": 3, "max_new_tokens": 8}, "reward_judge": "rubric", "eval_judges": ["rubric", "qmark"],
        "pairs": {"min_chosen_score": 0.1, "min_margin": 0.0, "chosen_asks_question": True},
        "training": {"max_steps": 1, "batch_size": 1, "grad_accum": 1},
        "sft": {"epochs": 1.0}, "rounds": 2, "labels": str(run / "labels.jsonl"),
        "reference_models": {"ref": "openai:gpt-4o-mini"},
        "evaluation": {"max_new_tokens": 8, "n_resamples": 200, "pressure": True},
    })


def minimal_config(tmp_path: Path) -> PipelineConfig:
    """The fewest settings: the packaged prompt, one round, no warm-up, no labels."""
    return PipelineConfig.model_validate({
        "out": str(tmp_path / "run"),
        "datasets": {"train": [{"source": "debugging"}], "test": [{"source": "mathdial", "limit": 5}]}})


def settings_hashes(config: PipelineConfig) -> dict[str, str]:
    return {stage.name: content_key(portable(stage.config, config.run_dir)) for stage in build_stages(config)}


def test_the_manifest_settings_are_those_existing_run_folders_hold(tmp_path):
    assert settings_hashes(full_config(tmp_path)) == GOLDEN
    assert settings_hashes(minimal_config(tmp_path)) == GOLDEN_MINIMAL


if __name__ == "__main__":
    # Prints the hashes of the code on the path: how GOLDEN was made (with the code before the marking).
    import tempfile

    for make in (full_config, minimal_config):
        with tempfile.TemporaryDirectory() as folder:
            print(settings_hashes(make(Path(folder))))


def test_each_manifest_keeps_the_fields_its_model_marks(tmp_path):
    from socratic.agreement.config import AgreementConfig
    from socratic.evaluate.config import EvaluateConfig
    from socratic.preference.generate import GenerateConfig
    from socratic.preference.pairs import PairsConfig
    from socratic.train.dpo import TrainConfig
    from socratic.train.sft import SftConfig

    stages = {stage.name: stage.config for stage in build_stages(full_config(tmp_path))}
    marked = {name: set(output_fields(model)) for name, model in (
        ("generate", GenerateConfig), ("pairs", PairsConfig), ("sft", SftConfig), ("train", TrainConfig),
        ("evaluate", EvaluateConfig), ("agreement", AgreementConfig))}
    extra = {"generate": {"system_prompt_sha"}, "pairs": {"system_prompt_sha"}, "evaluate": {"system_prompt_sha",
             "judge_versions"}, "agreement": {"judge_versions"}, "sft": set(), "train": set()}
    # Settings added later stay out of a manifest at the value that does what came before (stages.ADDED_LATER):
    # full_config leaves evaluation.teacher at it, the answer key off, the warm-up on the chosen replies and no
    # teacher-anchored pairs, and DPO without an SFT term.
    added_later = {"answer_key", "data", "teacher_sources", "teacher_test_sets", "model_written", "teacher_share",
                   "teacher_limit", "skip_openings", "teacher_moves", "sft_weight"}
    at_old_value = {"evaluate": {"teacher"}}
    for name, config in stages.items():
        kind = name.split(":")[0]
        if kind in marked:
            by_hash = {"system_prompt"} if kind in ("pairs", "evaluate") else set()
            assert set(config) == marked[kind] - by_hash - added_later - at_old_value.get(kind, set()) | extra[kind], \
                name
    (tmp_path / "keyed").mkdir()
    keyed = full_config(tmp_path / "keyed")
    keyed = keyed.model_copy(update={"answer_key": True, "sft": SftSettings(data="both"),
                                     "training": keyed.training.model_copy(update={"sft_weight": 1.0})})
    stages = {stage.name: stage.config for stage in build_stages(keyed)}
    for name in ("generate:mathdial", "pairs:mathdial", "sft:mathdial", "evaluate"):
        assert stages[name]["answer_key"] is True, name
    assert stages["train:mathdial"]["sft_weight"] == 1.0  # set, it is a setting of the stage: changing it re-trains
    assert stages["sft:mathdial"]["data"] == "both" and stages["sft:mathdial"]["teacher_sources"] == ["mathdial"]
    # Locations, cache switches and batch sizes are not marked: changing them re-runs nothing.
    assert not {"out", "no_cache", "overwrite", "concurrency"} & marked["generate"]
    assert not {"out", "no_cache", "batch_size", "concurrency"} & marked["evaluate"]
    assert not {"pairs", "out", "resume"} & marked["train"]


def test_the_judge_stage_keeps_marked_fields_of_the_judges_config(tmp_path):
    # The judge stage's settings come from the run config (reward_judge, judge_max_tries), not a JudgeConfig
    # dump; they are the judge's marked fields, less `formula` (pairs re-score every judgment with the run's
    # formula, so the judgments' own summary does not reach the pairs) and `limit` (the pipeline judges all).
    from socratic.judge.stage import JudgeConfig

    judge = next(stage.config for stage in build_stages(full_config(tmp_path)) if stage.name == "judge:mathdial")
    assert set(judge) - {"judge_version"} == set(output_fields(JudgeConfig)) - {"formula", "limit"}


def test_generate_resumes_only_under_the_same_marked_settings():
    # The settings a resumed candidates file must share, derived from the marks: the same as the hand-written
    # list they replaced, so a resume refused (or allowed) before still is.
    from socratic.preference.generate import OUTPUT_SETTINGS, check_settings

    assert set(OUTPUT_SETTINGS) == {"dataset", "split", "dedupe", "model", "k", "temperature", "top_p",
                                    "max_new_tokens", "seed", "batch_dialogues", "system_prompt_sha", "answer_key"}
    # answer_key came later: a candidates file made before it (without the key) resumes, as it was made without
    before = {name: 1 for name in OUTPUT_SETTINGS if name != "answer_key"}
    check_settings(before, {**before, "answer_key": False}, Path("c.jsonl"))
    with pytest.raises(ConfigError, match="answer_key: False in the existing run, True now"):
        check_settings(before, {**before, "answer_key": True}, Path("c.jsonl"))


def test_the_evaluation_section_is_evaluates_own_settings_and_reaches_the_stage(tmp_path):
    # `evaluation:` is made of EvaluateConfig's fields (socratic.config.section), not a copy: same defaults
    # and bounds, and every one of them set in a run config reaches the evaluate stage's config.
    from socratic.evaluate.config import EvaluateConfig
    from socratic.pipeline.config import EvaluationSettings

    own = EvaluateConfig.model_fields
    for name, field in EvaluationSettings.model_fields.items():
        if name != "judges":  # the renamed key, refused with its new name
            assert (field.default, field.metadata) == (own[name].default, own[name].metadata), name
    given = {"max_new_tokens": 9, "batch_size": 3, "n_resamples": 300, "pressure": True, "pressure_limit": 5,
             "pressure_pushes": 2, "teacher": False}
    config = minimal_config(tmp_path).model_copy(update={"evaluation": EvaluationSettings(**given)})
    evaluate = next(stage.config for stage in build_stages(config) if stage.name == "evaluate")
    assert {name: evaluate[name] for name in given if name != "batch_size"} == {
        name: value for name, value in given.items() if name != "batch_size"}  # batch_size changes no output
