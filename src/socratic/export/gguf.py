"""GGUF files from a transformers model folder, with llama.cpp's own tools, and a check that they work.

    python -m socratic.export.gguf fetch          # cache llama.cpp's converter (make setup does this)

- Conversion runs llama.cpp's `convert_hf_to_gguf.py` (with its `conversion/` package and the
  matching `gguf-py`) as a subprocess. The installed llama-cpp-python wheel does not ship these
  files, its source distribution does: the sdist of the *installed* version is fetched once with
  `pip download` (or taken from SOCRATIC_LLAMACPP_SDIST, a .tar.gz or an unpacked source folder)
  and the four needed paths are extracted to SOCRATIC_HOME/llama.cpp/<version>/.
- Quantization calls llama.cpp's quantizer through llama-cpp-python's `llama_model_quantize`, in a
  subprocess so that its C-level logging and any abort stay out of the caller.
- Verification compares each file with its source model by what conversion must preserve: the
  tokenization of fixed texts, the end-of-sequence token, and the next-token distributions (top-1
  agreement and mean KL divergence within a tolerance per quantization type). It also reports a
  greedy reply to a tutoring question, without judging it. llama.cpp runs in a child process, so a
  crash in its native code becomes a one-line error instead of killing the caller.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from filelock import FileLock

from socratic.errors import SocraticError
from socratic.store import paths

SDIST_ENV = "SOCRATIC_LLAMACPP_SDIST"
# What convert_hf_to_gguf.py needs next to it (paths inside vendor/llama.cpp/).
CONVERTER_PARTS = ("convert_hf_to_gguf.py", "conversion", "gguf-py", "LICENSE")
# Types the converter writes itself; everything else is quantized from an f16 file.
CONVERTER_TYPES = {"f32", "f16", "bf16", "q8_0"}


def llama_cpp_version() -> str:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        raise SocraticError("GGUF export needs llama-cpp-python: pip install -e '.[llamacpp]' "
                            "(make setup does; it builds from source, ~5 min)") from None


def quant_types() -> dict[str, int]:
    """Known GGUF file types by lower-case name (q8_0, q4_k_m, f16, ...) -> llama_ftype."""
    import llama_cpp

    types = {name.removeprefix("LLAMA_FTYPE_MOSTLY_").lower(): getattr(llama_cpp, name)
             for name in dir(llama_cpp) if name.startswith("LLAMA_FTYPE_MOSTLY_")}
    types["f32"] = llama_cpp.LLAMA_FTYPE_ALL_F32
    return types


def check_types(names: list[str]) -> list[str]:
    known = quant_types()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SocraticError(f"unknown GGUF type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return names


def converter_dir() -> Path:
    """A folder holding llama.cpp's convert_hf_to_gguf.py for the installed llama-cpp-python."""
    version = llama_cpp_version()
    target = paths.home() / "llama.cpp" / version
    if (target / "convert_hf_to_gguf.py").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "convert_hf_to_gguf.py").exists():
            source = os.environ.get(SDIST_ENV)
            with tempfile.TemporaryDirectory() as tmp:
                sdist = Path(source) if source else _download_sdist(version, Path(tmp))
                _extract_converter(sdist, target)
    return target


def _download_sdist(version: str, folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
               f"llama-cpp-python=={version}", "-d", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    if not found:  # pip may fail at preparing metadata after the download; the file is what we need
        raise SocraticError(f"could not download the llama-cpp-python {version} source distribution "
                            f"(needed for llama.cpp's converter): {done.stderr.strip()[-300:]}; "
                            f"or point {SDIST_ENV} at the .tar.gz")
    return found[0]


def _extract_converter(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if source.is_dir():  # an unpacked sdist or a llama.cpp checkout
        root = source / "vendor" / "llama.cpp" if (source / "vendor" / "llama.cpp").is_dir() else source
        for part in CONVERTER_PARTS:
            src = root / part
            if src.is_dir():
                shutil.copytree(src, tmp / part)
            elif src.exists():
                shutil.copy2(src, tmp / part)
    else:
        with tarfile.open(source) as archive:
            top = archive.getmembers()[0].name.split("/")[0]
            prefix = f"{top}/vendor/llama.cpp/"
            members = [m for m in archive.getmembers()
                       if m.name.startswith(prefix) and m.name[len(prefix):].split("/")[0] in CONVERTER_PARTS
                       and (m.isfile() or m.isdir())]
            for member in members:
                member.name = member.name[len(prefix):]
            archive.extractall(tmp, members=members, filter="data")
    if not (tmp / "convert_hf_to_gguf.py").exists():
        raise SocraticError(f"{source}: no vendor/llama.cpp/convert_hf_to_gguf.py inside")
    tmp.rename(target)


def convert(model_dir: Path, out_file: Path, outtype: str = "f16") -> float:
    """Run llama.cpp's converter on a transformers folder; returns seconds taken."""
    script = converter_dir() / "convert_hf_to_gguf.py"
    partial = out_file.with_name(out_file.name + ".partial")
    command = [sys.executable, str(script), str(model_dir), "--outfile", str(partial), "--outtype", outtype]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SocraticError(f"llama.cpp's convert_hf_to_gguf.py failed on {model_dir}:\n{tail}")
    partial.replace(out_file)
    return time.perf_counter() - started


def quantize(source: Path, out_file: Path, qtype: str, threads: int | None = None) -> float:
    """llama.cpp's quantizer (llama_model_quantize), in a subprocess; returns seconds taken."""
    partial = out_file.with_name(out_file.name + ".partial")
    started = time.perf_counter()
    try:  # a crash in llama.cpp is named by its signal (run_child), not reported as a plain failure
        run_child(["quantize", str(source), str(partial), qtype, str(threads or os.cpu_count() or 1)],
                  source, f"quantizing to {qtype}")
    except SocraticError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out_file)
    return time.perf_counter() - started


def _quantize_here(source: str, out: str, qtype: str, threads: int) -> int:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = quant_types()[qtype]
    params.nthread = threads
    return int(llama_cpp.llama_model_quantize(source.encode(), out.encode(), params))


# How close a GGUF must stay to its source model (the transformers folder, fp32) on VERIFY_TEXTS: the
# share of positions whose most likely next token is the same, and the mean KL divergence
# KL(source || GGUF) in nats per position. Measured on the embedded SmolLM2-135M, 251 positions, AMD
# EPYC (AVX-512), portable llama.cpp build: f16 agrees 1.000 / KL 0.0000, q8_0 0.964 / 0.0043,
# q4_k_m 0.861 / 0.060. The limits leave ~4-5x the KL and 5-15 points of agreement for other CPUs
# and models; a file whose weights are scrambled fails by far (tests/export/test_export.py asserts agreement
# < 0.5 and KL > 0.5 nats).
TOLERANCES = {"f32": (0.97, 0.005), "f16": (0.97, 0.005), "bf16": (0.95, 0.02), "q8_0": (0.90, 0.02)}
LOW_BIT_TOLERANCE = (0.75, 0.25)  # k-quants and the 4/5/6-bit types
# Texts scored by both models: a tutoring turn in the chat format (placeholders filled by `verify`) and
# plain prose, so the chat template's special tokens and ordinary text are both covered.
VERIFY_REPLY = "Good start. What could you do to both sides to find x?"
VERIFY_PROSE = ("A triangle has angles of 50 and 60 degrees. The third angle is found by subtracting both "
                "from 180, which gives 70 degrees. Checking the sum again is a good habit.")
CRASH_HINT = ("llama-cpp-python crashed in native code; reinstall its portable build with "
              "`bash scripts/install-llamacpp.sh .venv/bin/python`, or skip the check with --no-verify")


def tolerance(qtype: str) -> tuple[float, float]:
    """(minimum top-1 agreement, maximum mean KL in nats) a GGUF of `qtype` must meet."""
    return TOLERANCES.get(qtype, LOW_BIT_TOLERANCE)


def verify_texts(tokenizer: Any, messages: list[dict[str, str]]) -> list[str]:
    conversation = [*messages, {"role": "assistant", "content": VERIFY_REPLY}]
    return [tokenizer.apply_chat_template(conversation, tokenize=False), VERIFY_PROSE]


def run_child(args: list[str], file: Path, what: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """`python -m socratic.export.gguf ARGS` in a child process: a crash in llama.cpp kills the child only.

    Returns the finished process; a crash or a failure becomes a one-line SocraticError naming `file`.
    """
    command = [sys.executable, "-m", "socratic.export.gguf", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SocraticError(f"{file}: {what} did not finish within {timeout:.0f} s") from None
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise SocraticError(f"{file}: {what} crashed ({name}): {CRASH_HINT}")
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SocraticError(f"{file}: {what} failed (exit {done.returncode}): {tail}")
    return done


def verify(gguf: Path, model_dir: Path, messages: list[dict[str, str]], qtype: str, *, max_tokens: int = 128,
           threads: int | None = None) -> dict[str, Any]:
    """Compare `gguf` with its source model `model_dir` on fixed texts; report a sample reply unjudged.

    `ok` needs: llama.cpp tokenizes the texts exactly as the source tokenizer does, the GGUF's
    end-of-sequence token is the source's, and the next-token distributions agree within
    `tolerance(qtype)`. A greedy reply to `messages` is reported (text, finish reason, speed) but not
    judged: whether a 135M model's greedy text loops depends on the last bits of the arithmetic.
    llama.cpp runs in a child process (run_child).
    """
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    texts = verify_texts(tokenizer, messages)
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    with tempfile.TemporaryDirectory(prefix="socratic-verify-") as tmp:
        request = Path(tmp) / "request.json"
        request.write_text(json.dumps({"texts": texts, "ids": ids, "messages": messages, "max_tokens": max_tokens,
                                       "threads": threads or os.cpu_count() or 1}), "utf-8")
        run_child(["verify", str(gguf), str(request), tmp], gguf, "loading it back in llama.cpp for verification")
        child = json.loads((Path(tmp) / "result.json").read_text("utf-8"))
        gguf_logits = [np.load(Path(tmp) / f"logits-{i}.npy") for i in range(len(texts))]

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    agree, kl, positions = 0, 0.0, 0
    with torch.no_grad():
        for token_ids, theirs in zip(ids, gguf_logits, strict=True):
            ours = model(torch.tensor([token_ids])).logits[0].float()
            theirs = torch.from_numpy(theirs).float()[:, : ours.shape[-1]]
            p_log, q_log = ours.log_softmax(-1), theirs.log_softmax(-1)
            kl += float((p_log.exp() * (p_log - q_log)).sum(-1).sum())
            agree += int((ours.argmax(-1) == theirs.argmax(-1)).sum())
            positions += len(token_ids)
    min_agreement, max_kl = tolerance(qtype)
    agreement, mean_kl = agree / positions, kl / positions
    eos_ok = child["eos_token_id"] == tokenizer.eos_token_id
    close = agreement >= min_agreement and mean_kl <= max_kl
    problems = []
    if not child["tokens_match"]:
        problems.append("llama.cpp tokenizes the check texts differently from the source tokenizer")
    if not eos_ok:
        problems.append(f"end-of-sequence token {child['eos_token']!r} is not the source's {tokenizer.eos_token!r}")
    if not close:
        problems.append(f"next-token agreement {agreement:.3f} (min {min_agreement}) or mean KL {mean_kl:.4f} "
                        f"(max {max_kl}) nats off the source model")
    return {
        "file": gguf.name, "type": qtype, "ok": not problems, "problems": problems,
        "positions": positions, "top1_agreement": round(agreement, 4), "mean_kl_nats": round(mean_kl, 5),
        "tolerance": {"min_top1_agreement": min_agreement, "max_mean_kl_nats": max_kl},
        "tokens_match": child["tokens_match"], "end_of_turn_token": child["eos_token"],
        "reply": child["reply"], "finish_reason": child["finish_reason"],
        "stopped_at_end_of_turn": child["finish_reason"] == "stop", "completion_tokens": child["completion_tokens"],
        "load_seconds": child["load_seconds"], "generate_seconds": child["generate_seconds"],
        "tokens_per_second": child["tokens_per_second"],
    }


def _verify_here(gguf: str, request_file: str, out_dir: str) -> int:
    """The child side of `verify`: llama.cpp's logits on the texts, and a greedy sample reply."""
    import numpy as np
    from llama_cpp import Llama

    request = json.loads(Path(request_file).read_text("utf-8"))
    n_ctx = max(2048, max(len(ids) for ids in request["ids"]) + 8)
    started = time.perf_counter()
    llm = Llama(model_path=gguf, n_ctx=n_ctx, n_threads=request["threads"], logits_all=True, seed=0, verbose=False)
    loaded = time.perf_counter() - started
    tokens_match = True
    for i, (text, ids) in enumerate(zip(request["texts"], request["ids"], strict=True)):
        tokens_match &= llm.tokenize(text.encode("utf-8"), add_bos=False, special=True) == ids
        llm.reset()
        llm.eval(ids)
        np.save(Path(out_dir) / f"logits-{i}.npy", np.asarray(llm.scores[: len(ids)], dtype=np.float32))
    llm.reset()
    started = time.perf_counter()
    result = llm.create_chat_completion(messages=request["messages"], max_tokens=request["max_tokens"],
                                        temperature=0.0, seed=0)
    seconds = time.perf_counter() - started
    tokens = result["usage"]["completion_tokens"]
    eos = llm.token_eos()
    (Path(out_dir) / "result.json").write_text(json.dumps({
        "tokens_match": tokens_match, "eos_token_id": eos,
        "eos_token": llm.detokenize([eos], special=True).decode("utf-8", "replace"),
        "reply": result["choices"][0]["message"]["content"] or "",
        "finish_reason": result["choices"][0]["finish_reason"], "completion_tokens": tokens,
        "load_seconds": round(loaded, 2), "generate_seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else None}), "utf-8")
    return 0


def _main(argv: list[str]) -> int:
    if argv[:1] == ["fetch"]:
        print(converter_dir())
        return 0
    if argv[:1] == ["quantize"] and len(argv) == 5:
        return _quantize_here(argv[1], argv[2], argv[3], int(argv[4]))
    if argv[:1] == ["verify"] and len(argv) == 4:
        return _verify_here(argv[1], argv[2], argv[3])
    print("usage: python -m socratic.export.gguf fetch | quantize IN OUT TYPE THREADS | verify GGUF REQUEST DIR",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
