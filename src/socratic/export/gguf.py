"""GGUF files from a transformers model folder, with llama.cpp's own tools, and a check that they work.

    python -m socratic.export.gguf fetch          # cache llama.cpp's converter (make setup does this)

- Conversion runs llama.cpp's `convert_hf_to_gguf.py` (with its `conversion/` package and the
  matching `gguf-py`) as a subprocess. The installed llama-cpp-python wheel does not ship these
  files, its source distribution does: the sdist of the *installed* version is fetched once with
  `pip download` (or taken from SOCRATIC_LLAMACPP_SDIST, a .tar.gz or an unpacked source folder)
  and the four needed paths are extracted to SOCRATIC_HOME/llama.cpp/<version>/.
- Quantization calls llama.cpp's quantizer through llama-cpp-python's `llama_model_quantize`, in a
  subprocess so that its C-level logging and any abort stay out of the caller.
- Verification loads each file with `llama_cpp.Llama`, asks a tutoring question through the
  GGUF's own chat template, and checks that the reply ends at the end of the tutor's turn.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from filelock import FileLock

from socratic import paths
from socratic.errors import SocraticError

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
    command = [sys.executable, "-m", "socratic.export.gguf", "quantize", str(source), str(partial), qtype,
               str(threads or os.cpu_count() or 1)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise SocraticError(f"quantizing {source.name} to {qtype} failed:\n{tail}")
    partial.replace(out_file)
    return time.perf_counter() - started


def _quantize_here(source: str, out: str, qtype: str, threads: int) -> int:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = quant_types()[qtype]
    params.nthread = threads
    return int(llama_cpp.llama_model_quantize(source.encode(), out.encode(), params))


def verify(gguf: Path, messages: list[dict[str, str]], *, max_tokens: int = 256,
           threads: int | None = None) -> dict[str, Any]:
    """Load `gguf` in llama.cpp, answer `messages` greedily, and say whether the turn ended properly.

    `ok` needs a non-empty reply that finished with the end-of-turn token (finish_reason "stop",
    not "length") and contains no chat-template markers.
    """
    from llama_cpp import Llama

    started = time.perf_counter()
    llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads or os.cpu_count(), seed=0, verbose=False)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    result = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, seed=0)
    seconds = time.perf_counter() - started
    reply = result["choices"][0]["message"]["content"] or ""
    finish = result["choices"][0]["finish_reason"]
    tokens = result["usage"]["completion_tokens"]
    eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
    markers = [m for m in ("<|im_start|>", "<|im_end|>", "<|endoftext|>") if m in reply]
    del llm
    return {
        "file": gguf.name, "ok": bool(reply.strip()) and finish == "stop" and not markers,
        "reply": reply, "finish_reason": finish, "stopped_at_end_of_turn": finish == "stop",
        "end_of_turn_token": eos, "template_markers_in_reply": markers, "completion_tokens": tokens,
        "load_seconds": round(loaded, 2), "generate_seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else None,
    }


def _main(argv: list[str]) -> int:
    if argv[:1] == ["fetch"]:
        print(converter_dir())
        return 0
    if argv[:1] == ["quantize"] and len(argv) == 5:
        return _quantize_here(argv[1], argv[2], argv[3], int(argv[4]))
    print("usage: python -m socratic.export.gguf fetch | quantize IN OUT TYPE THREADS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
