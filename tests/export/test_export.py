"""Tests of `socratic export`: Modelfile and model card (pure), the model folder, and real GGUF exports.

The slow tests convert the embedded model with llama.cpp's own converter and quantizer, and check
each GGUF against the model it came from (tokenization, end-of-sequence token, next-token
distributions); a GGUF with scrambled weights must fail, and a crash in llama.cpp must become a
clear error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socratic.agreement.result import Agreement
from socratic.backends.embedded import embedded_model_dir
from socratic.errors import SocraticError
from socratic.evaluate.result import Evaluation
from socratic.export.hf_folder import (
    EMBEDDED_BASE,
    ExportConfig,
    agreement_rows,
    evaluation_rows,
    find_results,
    render_card,
    resolve_model,
    run,
)
from socratic.export.modelfile import CHATML, OLLAMA_TEMPLATES, chat_format, detect_format, render_modelfile

_BASE = {"mean": 0.4213, "low": 0.35, "high": 0.49, "n": 20}
_TUNED = {"mean": 0.6, "low": 0.52, "high": 0.68, "n": 19}
EVALUATION = {
    "formula": "uniform", "warnings": ["The judge that ranked the training pairs (rubric) also judged this."],
    "models": [{"name": "base", "spec": "embedded"}, {"name": "tuned-mathdial", "spec": "hf:runs/x/models/mathdial",
                                                       "trained_on": "mathdial"}],
    "datasets": ["mathdial"], "judges": ["rubric"],
    "results": [
        {"model": "base", "dataset": "mathdial", "judge": "rubric", "n": 20, "judged": 20, "failed": 0,
         "summary": _BASE, "summary_uniform": _BASE, "summary_reference": _BASE},
        {"model": "tuned-mathdial", "dataset": "mathdial", "judge": "rubric", "n": 20, "judged": 19, "failed": 1,
         "summary": _TUNED, "summary_uniform": _TUNED, "summary_reference": _TUNED},
    ],
}
AGREEMENT = {"judges": [{"spec": "rubric", "n_items": 50, "criteria": {}, "summary": {
    "n": 50, "pearson": {"estimate": 0.612, "ci_low": 0.41, "ci_high": 0.77}, "mae": 0.11}}]}


# ---- Modelfile ---------------------------------------------------------------------------------

def test_detect_format_recognises_chatml_only():
    assert detect_format(CHATML) == "chatml"
    assert detect_format("<|im_start|>" + CHATML, bos="<|im_start|>") == "chatml"
    assert detect_format("<s>" + CHATML, bos="<s>") == "chatml"
    assert detect_format(CHATML.replace("<|im_end|>", "</s>")) is None
    assert detect_format("<|start_header_id|>system<|end_header_id|>\n\nS1<|eot_id|>") is None


def test_embedded_tokenizer_is_chatml():
    from transformers import AutoTokenizer

    assert chat_format(AutoTokenizer.from_pretrained(embedded_model_dir())) == "chatml"


def test_modelfile_has_from_template_stops_parameters_and_system():
    text = render_modelfile("./gguf/tutor-q8_0.gguf", system="Ask, do not tell.", fmt="chatml",
                            parameters={"temperature": 0.7, "num_ctx": 2048})
    lines = text.splitlines()
    assert "FROM ./gguf/tutor-q8_0.gguf" in lines
    assert f'TEMPLATE """{OLLAMA_TEMPLATES["chatml"]}"""' in text
    assert 'PARAMETER stop "<|im_end|>"' in lines and 'PARAMETER stop "<|im_start|>"' in lines
    assert "PARAMETER temperature 0.7" in lines and "PARAMETER num_ctx 2048" in lines
    assert 'SYSTEM """Ask, do not tell."""' in lines


def test_modelfile_without_known_format_leaves_the_template_to_the_gguf():
    text = render_modelfile("./m.gguf", system="x", fmt=None, extra_stops=["</s>"])
    assert "TEMPLATE" not in text.replace("template", "") and 'PARAMETER stop "</s>"' in text


def test_modelfile_refuses_an_unquotable_system_prompt():
    with pytest.raises(ValueError, match='"""'):
        render_modelfile("./m.gguf", system='say """hi"""', fmt="chatml")


# ---- config, results and card ------------------------------------------------------------------

def test_gguf_types_are_split_lowered_and_deduplicated(tmp_path):
    config = ExportConfig(model="embedded", out=tmp_path, gguf="Q8_0, q4_k_m,q8_0")
    assert config.gguf == ["q8_0", "q4_k_m"]
    assert ExportConfig(model="embedded", out=tmp_path, gguf=["q8_0,f16"]).gguf == ["q8_0", "f16"]


def test_resolve_model_errors_name_the_folder(tmp_path):
    with pytest.raises(SocraticError, match="model folder not found"):
        resolve_model(f"hf:{tmp_path / 'missing'}")
    with pytest.raises(SocraticError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_evaluation_and_agreement_rows():
    rows = evaluation_rows(Evaluation.model_validate(EVALUATION))
    assert rows["rows"][0] == {"model": "base", "dataset": "mathdial", "judge": "rubric", "n": 20,
                               "mean": "0.421", "ci": "0.350 – 0.490"}
    assert rows["rows"][1]["n"] == 19 and rows["warnings"] == EVALUATION["warnings"]
    assert agreement_rows(Agreement.model_validate(AGREEMENT)) == [{"spec": "rubric", "n": 50, "pearson": "0.612",
                                          "ci": "0.410 – 0.770", "mae": "0.110"}]


def _run_folder(root: Path) -> Path:
    (root / "eval").mkdir(parents=True)
    (root / "agreement").mkdir()
    (root / "eval" / "evaluation.json").write_text(json.dumps(EVALUATION))
    (root / "agreement" / "agreement.json").write_text(json.dumps(AGREEMENT))
    return root


def test_find_results_in_a_given_run_or_above_a_pipeline_model(tmp_path):
    run_dir = _run_folder(tmp_path / "run")
    assert find_results(run_dir, tmp_path / "x") == {"evaluation": run_dir / "eval" / "evaluation.json",
                                                      "agreement": run_dir / "agreement" / "agreement.json"}
    assert set(find_results(None, run_dir / "models" / "mathdial")) == {"evaluation", "agreement"}
    assert find_results(None, tmp_path / "a" / "b") == {}
    with pytest.raises(SocraticError, match="no evaluation.json"):
        find_results(tmp_path / "a", tmp_path)


def test_model_card_renders_training_evaluation_agreement_and_gguf():
    card = render_card(
        name="tutor", source="hf:runs/x/models/mathdial", exported_at="2025-01-01", base_model=EMBEDDED_BASE,
        base_model_id=EMBEDDED_BASE, folder_name="out", modelfile=True, ollama_name="tutor",
        gguf=[{"type": "q8_0", "path": "gguf/tutor-q8_0.gguf", "mib": 138.1}],
        train_config={"learning_rate": 0.0002, "lora": True, "pairs": "p.jsonl"},
        train_summary={"steps": 32, "train_loss": 0.61, "warnings": []},
        evaluation=evaluation_rows(Evaluation.model_validate(EVALUATION)),
        agreement=agreement_rows(Agreement.model_validate(AGREEMENT)),
        verification=[{"file": "tutor-q8_0.gguf", "ok": True, "top1_agreement": 0.99, "mean_kl_nats": 0.001,
                       "stopped_at_end_of_turn": False, "tokens_per_second": 80.5,
                       "reply": "What is 8 | 2?\nThink."},
                      {"file": "tutor-q2_k.gguf", "ok": False, "error": "tutor-q2_k.gguf: crashed (SIGSEGV)"}],
        llama_cpp_version="0.3.36", system_prompt="Ask questions.")
    assert card.startswith("---\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\n")
    assert "Fine-tuned from **HuggingFaceTB/SmolLM2-135M-Instruct** with DPO" in card
    assert "| learning_rate | `0.0002` |" in card and "- steps: 32" in card
    assert "| tuned-mathdial | mathdial | rubric | 19 | 0.600 | 0.520 – 0.680 |" in card
    assert "> The judge that ranked the training pairs" in card
    assert "| rubric | 50 | 0.612 | 0.410 – 0.770 | 0.110 |" in card
    assert "| `tutor-q8_0.gguf` | yes | 0.99 | 0.001 | no | 80.5 | What is 8 \\| 2? Think. |" in card
    assert "| `tutor-q2_k.gguf` | no | – | – | no | – | tutor-q2_k.gguf: crashed (SIGSEGV) |" in card
    assert "ollama create tutor -f Modelfile" in card
    assert "## Intended use" in card and "## Limitations" in card and "Ask questions." in card


def test_export_without_gguf_copies_the_model_and_writes_card_and_report(tmp_path):
    out = run(ExportConfig(model="embedded", out=tmp_path / "out"))
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md", "export_report.json"):
        assert (out / name).exists(), name
    report = json.loads((out / "export_report.json").read_text())
    assert report["model_folder"] == "copied" and report["chat_format"] == "chatml" and report["ok"]
    assert "not fine-tuned by socratic" in (out / "README.md").read_text()


def test_export_refuses_to_overwrite_its_source():
    with pytest.raises(SocraticError, match="must differ"):
        run(ExportConfig(model="embedded", out=embedded_model_dir()))


# ---- real GGUF exports (llama.cpp) -------------------------------------------------------------
# llama.cpp itself only ever runs in child processes here (the CLI, socratic.export.gguf.verify).

def _check_gguf_matches_its_source(path: Path, source: Path, qtype: str) -> dict:
    from socratic.export import gguf as export_gguf
    from socratic.export.hf_folder import CHECK_DIALOGUE
    from socratic.render import render_messages

    check = export_gguf.verify(path, source, render_messages(CHECK_DIALOGUE), qtype, max_tokens=32)
    assert check["ok"], check["problems"]
    assert check["tokens_match"] and check["end_of_turn_token"] == "<|im_end|>" and check["reply"].strip()
    return check


@pytest.fixture(scope="module")
def cli_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "socratic-tutor"
    cli = Path(sys.executable).with_name("socratic")
    started = time.perf_counter()
    done = subprocess.run([str(cli), "export", "--model", "embedded", "-o", str(out), "--gguf", "q8_0,q4_k_m",
                           "--ollama", "socratic-tutor"], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    print(f"export took {time.perf_counter() - started:.0f}s")
    return out


@pytest.mark.slow
def test_export_embedded_to_gguf_and_ollama_via_the_cli(cli_export):
    out = cli_export
    report = json.loads((out / "export_report.json").read_text())
    print(f"timings {report['timings']}; " + "; ".join(
        f"{c['file']}: top-1 {c['top1_agreement']}, KL {c['mean_kl_nats']}, {c['tokens_per_second']} tok/s"
        for c in report["verification"]))
    assert report["ok"] and [g["type"] for g in report["gguf"]] == ["q8_0", "q4_k_m"]
    sizes = {g["type"]: g["bytes"] for g in report["gguf"]}
    assert sizes["q4_k_m"] < sizes["q8_0"] < (out / "model.safetensors").stat().st_size
    for check in report["verification"]:
        assert check["ok"] and check["tokens_match"] and check["end_of_turn_token"] == "<|im_end|>"
        assert check["positions"] > 50 and check["reply"].strip()  # the reply is reported, not judged
    q8, q4 = report["verification"]
    assert q8["top1_agreement"] >= q4["top1_agreement"] and q8["mean_kl_nats"] < q4["mean_kl_nats"]
    assert not list((out / "gguf").glob(".*")), "intermediate files left behind"
    modelfile = (out / "Modelfile").read_text()
    assert "FROM ./gguf/socratic-tutor-q8_0.gguf" in modelfile and "TEMPLATE" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile and 'SYSTEM """You are a Socratic tutor.' in modelfile
    assert "| `socratic-tutor-q4_k_m.gguf` | yes |" in (out / "README.md").read_text()


@pytest.mark.slow
def test_verification_fails_a_gguf_that_does_not_match_its_source(cli_export, tmp_path):
    """A broken export (weights that are not the source's) must fail, by far, not at the margin."""
    import torch
    from safetensors.torch import load_file, save_file

    from socratic.export import gguf as export_gguf
    from socratic.export.hf_folder import CHECK_DIALOGUE
    from socratic.render import render_messages

    other = tmp_path / "other"
    shutil.copytree(embedded_model_dir(), other)
    weights = load_file(other / "model.safetensors")
    generator = torch.Generator().manual_seed(0)
    for name, tensor in weights.items():  # the same model with its layers' weights scrambled
        if "layers." in name and tensor.ndim == 2:
            weights[name] = tensor.flatten()[torch.randperm(tensor.numel(), generator=generator)].view_as(tensor)
    save_file(weights, other / "model.safetensors", metadata={"format": "pt"})
    check = export_gguf.verify(cli_export / "gguf" / "socratic-tutor-q8_0.gguf", other,
                               render_messages(CHECK_DIALOGUE), "q8_0", max_tokens=8)
    assert not check["ok"] and check["tokens_match"]
    assert check["top1_agreement"] < 0.5 and check["mean_kl_nats"] > 0.5, check
    assert "next-token agreement" in check["problems"][0]


@pytest.mark.slow
def test_a_crash_in_llama_cpp_during_verification_is_a_clear_error(tmp_path):
    """A segfault in llama.cpp's native code (here: a SIGSEGV raised in its place) ends the export with
    a one-line error naming the file and what to do, exit 2, the GGUF and the report kept."""
    hook = tmp_path / "hook"
    hook.mkdir()
    # Only the verification child (`python -m socratic.export.gguf verify ...`) gets a Llama that segfaults.
    (hook / "sitecustomize.py").write_text(
        "import os, signal, sys\n"
        "if sys.argv[:2] == ['-m', 'verify']:\n"
        "    import llama_cpp\n"
        "    llama_cpp.Llama = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGSEGV)\n")
    out = tmp_path / "crash"
    cli = Path(sys.executable).with_name("socratic")
    done = subprocess.run([str(cli), "export", "--model", "embedded", "-o", str(out), "--gguf", "q8_0"],
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "PYTHONPATH": str(hook)})
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert "crash-q8_0.gguf" in last and "crashed (SIGSEGV)" in last and "install-llamacpp.sh" in last, last
    assert "Traceback" not in done.stderr
    report = json.loads((out / "export_report.json").read_text())
    assert not report["ok"] and "SIGSEGV" in report["verification"][0]["error"]
    assert (out / "gguf" / "crash-q8_0.gguf").stat().st_size > 0


@pytest.mark.slow
def test_export_of_a_trained_run_folder_puts_its_results_in_the_card(tmp_path):
    run_dir = _run_folder(tmp_path / "run")
    trained = run_dir / "models" / "mathdial"
    shutil.copytree(embedded_model_dir(), trained)
    (trained / "train_config.json").write_text(json.dumps({"model": "embedded", "learning_rate": 0.0002,
                                                           "system_prompt": None}))
    (trained / "train_summary.json").write_text(json.dumps({"steps": 8, "base_model": "embedded",
                                                            "train_loss": 0.66}))
    out = run(ExportConfig(model=f"hf:{trained}", out=tmp_path / "export", gguf=["q8_0"], ollama="tutor"))
    card = (out / "README.md").read_text()
    assert "Fine-tuned from **HuggingFaceTB/SmolLM2-135M-Instruct**" in card
    assert "| tuned-mathdial | mathdial | rubric | 19 | 0.600 |" in card and "| rubric | 50 | 0.612 |" in card
    assert "| `export-q8_0.gguf` | yes |" in card
    assert (out / "train_summary.json").exists()
    _check_gguf_matches_its_source(out / "gguf" / "export-q8_0.gguf", out, "q8_0")


def test_a_crash_in_the_quantizer_is_named_by_its_signal_and_leaves_no_partial_file(tmp_path, monkeypatch):
    from socratic.errors import SocraticError
    from socratic.export import gguf

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, signal, sys\n"
        "if sys.argv[:2] == ['-m', 'quantize']:\n"
        "    os.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])))
    source, out = tmp_path / "model-f16.gguf", tmp_path / "model-q8_0.gguf"
    source.write_bytes(b"GGUF")
    with pytest.raises(SocraticError, match=r"model-f16\.gguf: quantizing to q8_0 crashed \(SIGSEGV\)"):
        gguf.quantize(source, out, "q8_0")
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


def test_the_card_reads_train_config_through_its_model_without_the_format_version(tmp_path):
    from socratic.errors import InputError
    from socratic.export.hf_folder import _train_settings
    from socratic.train.artifacts import TrainConfigRecord
    from socratic.train.dpo import TrainConfig

    config = TrainConfig(pairs=tmp_path / "p.jsonl", out=tmp_path, learning_rate=2e-4)
    TrainConfigRecord.save(tmp_path / "train_config.json", config)
    assert _train_settings(tmp_path) == config.model_dump(mode="json")  # no `version` row in the card
    (tmp_path / "train_config.json").write_text(json.dumps({"learning_rate": "fast"}))
    with pytest.raises(InputError, match=r"train_config\.json: field 'learning_rate'"):
        _train_settings(tmp_path)
    assert _train_settings(tmp_path / "absent") is None
