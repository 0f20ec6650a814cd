"""Export a tutor: a merged safetensors folder with a model card, GGUF files, and an Ollama Modelfile.

    socratic export --model hf:runs/demo/models/mathdial -o exported/ --gguf q8_0,q4_k_m --ollama socratic-tutor
    socratic export --model embedded -o exported-base/ --gguf q8_0

OUT must be new, empty, or replaced whole with --force: the export is built in a temp folder beside
it and swapped in at the end, so no old file survives next to the new ones and a failed export leaves
OUT as it was. What the export needs (llama-cpp-python and its converter for --gguf/--ollama, a
writable place for OUT) is checked before anything is copied.

OUT receives:
    config.json, model.safetensors, tokenizer files   the merged model (`hf:OUT` loads it)
    train_config.json, train_summary.json              copied from a trained folder when present
    gguf/NAME-TYPE.gguf                                llama.cpp's converter + quantizer (socratic.export.gguf)
    Modelfile                                          with --ollama: FROM the first GGUF, TEMPLATE, stops, SYSTEM
    README.md                                          the model card (prompts/model_card.md)
    export_report.json                                 what was done, timings, and the GGUF verification

Every GGUF is loaded back with llama.cpp (in a child process) and compared with the merged model:
same tokenization, same end-of-sequence token, next-token distributions within a tolerance per
quantization type (socratic.export.gguf.TOLERANCES). Its greedy reply to a tutoring question is
reported, not judged. The export fails (exit 2) when a file fails, or llama.cpp crashes, after
writing the report.
Evaluation results and judge agreement go into the card when a run folder has them (--run, or
found above a pipeline's RUN/models/NAME folder).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from socratic.agreement.result import Agreement
from socratic.backends import local_model_dir
from socratic.errors import SocraticError
from socratic.evaluate.result import Evaluation
from socratic.export.config import ExportConfig
from socratic.records import Dialogue, Turn
from socratic.render import load_system_prompt, render_messages
from socratic.specs import hf_path
from socratic.store.jsonl import write_json
from socratic.train.artifacts import TrainConfigRecord

EMBEDDED_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
# Files of a transformers model folder that are copied as they are.
MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
               "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
               "chat_template.json", "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json")
TRAINING_FILES = ("train_config.json", "train_summary.json")
OLLAMA_PARAMETERS = {"temperature": 0.7, "top_p": 0.9, "num_ctx": 2048, "num_predict": 256}

CHECK_DIALOGUE = Dialogue(
    id="export-check", source="export", split="test", context="Solve for x: 2x + 3 = 11.",
    turns=[Turn(role="student", text="I subtracted 3 from both sides and got 2x = 8. What do I do now?")])


def resolve_model(spec: str) -> tuple[Path, str]:
    """(model folder, base model label) for `embedded`, `hf:DIR` or a plain folder path."""
    if spec == "embedded":
        return local_model_dir(spec), EMBEDDED_BASE
    folder = hf_path(spec) or Path(spec).expanduser()
    if not folder.is_dir():
        raise SocraticError(f"{folder}: model folder not found (expected embedded, hf:DIR or DIR)")
    if not (folder / "config.json").exists() and not (folder / "adapter_config.json").exists():
        raise SocraticError(f"{folder}: not a transformers model or adapter folder (no config.json)")
    return folder, _base_label(folder)


def _base_label(folder: Path) -> str:
    summary = _read_json(folder / "train_summary.json") or _read_json(folder / "train_config.json") or {}
    base = summary.get("base_model") or summary.get("model")
    if base in (None, "embedded"):
        return EMBEDDED_BASE if base == "embedded" else folder.name
    return str(base).removeprefix("hf:")


def _train_settings(folder: Path) -> dict[str, Any] | None:
    """train_config.json's settings for the card (its format `version` is not a training setting)."""
    saved = TrainConfigRecord.read_if_exists(folder / "train_config.json")
    return saved.settings() if saved else None


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as error:
        raise SocraticError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from None


def write_model_folder(source: Path, out: Path) -> str:
    """The merged model into OUT: copied when it already is one, else merged from its adapter."""
    out.mkdir(parents=True, exist_ok=True)
    if (source / "config.json").exists() and any(source.glob("*.safetensors")):
        for name in [*MODEL_FILES, *TRAINING_FILES, *sorted(p.name for p in source.glob("model-*.safetensors"))]:
            if (source / name).exists():
                tmp = out / f".{name}.tmp"
                shutil.copy2(source / name, tmp)
                tmp.chmod(0o644)  # an ordinary file, whatever the source's mode (a converted model can be 0600)
                tmp.replace(out / name)
        return "copied"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (source / "config.json").exists():
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    else:
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(source, dtype=torch.float32).merge_and_unload()
    tokenizer_source = source if (source / "tokenizer_config.json").exists() else model.name_or_path
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(tokenizer_source).save_pretrained(out)
    for name in TRAINING_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, out / name)
            (out / name).chmod(0o644)
    return "merged" if not (source / "config.json").exists() else "re-saved"


def make_ggufs(model_dir: Path, gguf_dir: Path, stem: str, types: list[str]) -> list[dict[str, Any]]:
    """GGUF files of `types`, via llama.cpp's converter (f32/f16/bf16/q8_0) or its quantizer (the rest)."""
    from socratic.export import gguf as export_gguf
    from socratic.progress import progress_bar

    export_gguf.check_types(types)
    gguf_dir.mkdir(parents=True, exist_ok=True)
    made, f16 = [], gguf_dir / f"{stem}-f16.gguf"
    intermediate = None
    with progress_bar() as progress:
        task = progress.add_task("GGUF", total=len(types))
        for qtype in types:
            path = gguf_dir / f"{stem}-{qtype}.gguf"
            progress.update(task, description=f"GGUF {qtype}")
            if qtype in export_gguf.CONVERTER_TYPES:
                seconds = export_gguf.convert(model_dir, path, qtype)
                how = "convert_hf_to_gguf.py"
            else:
                if intermediate is None:
                    intermediate = f16 if "f16" in types and f16.exists() else gguf_dir / f".{stem}-f16.tmp.gguf"
                    if not intermediate.exists():
                        export_gguf.convert(model_dir, intermediate, "f16")
                seconds = export_gguf.quantize(intermediate, path, qtype)
                how = "convert_hf_to_gguf.py (f16) + llama_model_quantize"
            made.append({"type": qtype, "path": str(path.relative_to(gguf_dir.parent)), "bytes": path.stat().st_size,
                         "mib": round(path.stat().st_size / 2**20, 1), "seconds": round(seconds, 1), "how": how})
            progress.advance(task)
    if intermediate is not None and intermediate.name.startswith("."):
        intermediate.unlink(missing_ok=True)
    return made


def find_results(run: Path | None, model_dir: Path) -> dict[str, Path]:
    """evaluation.json / agreement.json of the run folder (given, or the one above RUN/models/NAME)."""
    roots = [run] if run else [model_dir.parent.parent]
    found = {}
    for root in roots:
        for key, names in (("evaluation", ("evaluation.json", "eval/evaluation.json")),
                           ("agreement", ("agreement.json", "agreement/agreement.json"))):
            hit = next((root / n for n in names if (root / n).exists()), None)
            if hit:
                found[key] = hit
    if run and not found:
        raise SocraticError(f"{run}: no evaluation.json or agreement.json (also looked in eval/ and agreement/)")
    return found


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def evaluation_rows(evaluation: Evaluation) -> dict[str, Any]:
    rows = []
    for r in evaluation.results:
        rows.append({"model": r.model, "dataset": r.dataset, "judge": r.judge, "n": r.judged,
                     "mean": _fmt(r.summary.mean), "ci": f"{_fmt(r.summary.low)} – {_fmt(r.summary.high)}"})
    return {"formula": evaluation.formula, "rows": rows, "warnings": evaluation.warnings}


def agreement_rows(agreement: Agreement) -> list[dict[str, Any]]:
    rows = []
    for judge in agreement.judges:
        summary, pearson = judge.summary, judge.summary.pearson
        rows.append({"spec": judge.spec, "n": summary.n, "pearson": _fmt(pearson.estimate),
                     "ci": f"{_fmt(pearson.ci_low)} – {_fmt(pearson.ci_high)}", "mae": _fmt(summary.mae)})
    return rows


def render_card(**data: Any) -> str:
    template = resources.files("socratic.prompts").joinpath("model_card.md").read_text("utf-8")
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.from_string(template).render(**data)


def _system_prompt(config: ExportConfig, model_dir: Path) -> str:
    """--system-prompt, else the prompt the model was trained with, else the packaged tutor prompt."""
    if config.system_prompt:
        return load_system_prompt(config.system_prompt)
    saved = TrainConfigRecord.read_if_exists(model_dir / "train_config.json")
    trained = saved.system_prompt if saved else None
    if trained and Path(trained).exists():
        return load_system_prompt(trained)
    return load_system_prompt(None)


def run(config: ExportConfig) -> Path:
    """Export; returns OUT. Raises SocraticError when a GGUF fails its verification (report written first)."""
    from rich.console import Console

    console = Console(stderr=True)
    started = time.perf_counter()
    final = config.out
    source, base_model = resolve_model(config.model)
    if final.resolve() == source.resolve():
        raise SocraticError(f"{final}: the output folder must differ from the model folder")
    if final.resolve() in source.resolve().parents:
        raise SocraticError(f"{final}: the output folder holds the model folder {source}; export elsewhere")
    check_target(final, force=config.force)
    if config.ollama and not config.gguf:
        config = config.model_copy(update={"gguf": ["q8_0"]})  # Ollama needs a GGUF to point at
    if config.gguf:
        _check_gguf_tools(config.gguf)
    results = find_results(config.run, source)
    system_prompt = _system_prompt(config, source)
    out = _staging_folder(final)
    try:
        _export(config, source, base_model, out, final, results, system_prompt, console, started)
    except OSError as error:
        shutil.rmtree(out, ignore_errors=True)
        raise _os_error(final, error) from None
    except SocraticError as error:
        if (out / "export_report.json").exists():  # a GGUF failed its check: keep the report to read
            _swap_in(out, final)
        else:
            shutil.rmtree(out, ignore_errors=True)
        raise error from None
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    _swap_in(out, final)
    console.print(f"exported to {final} in {round(time.perf_counter() - started, 1)} s")
    return final


def check_target(out: Path, *, force: bool) -> None:
    """Refuse, before any work, an OUT that is a file, holds files (without --force), or cannot be written."""
    if out.exists() and not out.is_dir():
        raise SocraticError(f"{out}: not a folder (a file is there); name a new or empty folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SocraticError(f"{out}: the folder is not empty; choose a new folder, or pass --force to replace "
                            "it whole (its files are removed)")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _os_error(out, error) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SocraticError(f"{out}: not writable (no permission to create it in {parent})")
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise SocraticError(f"{out}: not writable (no permission to replace the files in it)")


def _os_error(out: Path, error: OSError) -> SocraticError:
    """A file-system failure while exporting to `out`, as one line."""
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SocraticError(f"{out}: not writable ({error.strerror}: {error.filename})")
    return SocraticError(f"{out}: export failed: {error.strerror or error} ({error.filename})")


def _check_gguf_tools(types: list[str]) -> None:
    """llama-cpp-python, the GGUF types and llama.cpp's converter, before a byte is copied."""
    from socratic.export import gguf as export_gguf

    export_gguf.llama_cpp_version()
    export_gguf.check_types(types)
    export_gguf.converter_dir()


def _staging_folder(out: Path) -> Path:
    """An empty folder beside OUT (same file system, so the final rename is atomic)."""
    parent = out.resolve().parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.resolve().name}.", suffix=".tmp", dir=parent))
        staging.chmod(0o755)  # mkdtemp makes it 0700; the export is an ordinary folder
    except OSError as error:
        raise _os_error(out, error) from None
    return staging


def _swap_in(staging: Path, out: Path) -> None:
    """Put the finished export under OUT's name; what OUT held before is removed after the swap."""
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.resolve().name}.", suffix=".old", dir=out.resolve().parent))
            out.replace(old / "folder")
            staging.replace(out)
            shutil.rmtree(old)
        else:
            staging.replace(out)
    except OSError as error:
        raise _os_error(out, error) from None


def _export(config: ExportConfig, source: Path, base_model: str, out: Path, final: Path, results: dict[str, Path],
            system_prompt: str, console: Any, started: float) -> None:
    """Everything the export writes, into `out` (the staging folder that becomes `final`)."""
    report: dict[str, Any] = {"source": config.model, "source_dir": str(source), "base_model": base_model,
                              "out": str(final), "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "results_from": {k: str(v) for k, v in results.items()}, "timings": {}}

    t = time.perf_counter()
    report["model_folder"] = write_model_folder(source, out)
    report["timings"]["model_folder_s"] = round(time.perf_counter() - t, 1)
    console.print(f"model folder: {final} ({report['model_folder']})")

    from transformers import AutoTokenizer

    from socratic.export import modelfile

    tokenizer = AutoTokenizer.from_pretrained(out)
    chat_format = modelfile.chat_format(tokenizer)
    report["chat_format"] = chat_format

    stem = config.name or final.resolve().name
    gguf: list[dict[str, Any]] = []
    verification: list[dict[str, Any]] = []
    llama_version = None
    if config.gguf:
        from socratic.export import gguf as export_gguf

        llama_version = export_gguf.llama_cpp_version()
        t = time.perf_counter()
        gguf = make_ggufs(out, out / "gguf", stem, config.gguf)
        report["timings"]["gguf_s"] = round(time.perf_counter() - t, 1)
        if config.verify:
            messages = render_messages(CHECK_DIALOGUE, system_prompt)
            t = time.perf_counter()
            for file in gguf:
                try:
                    check = export_gguf.verify(out / file["path"], out, messages, file["type"])
                except SocraticError as error:  # llama.cpp crashed or failed in its child process
                    check = {"file": Path(file["path"]).name, "ok": False, "error": str(error)}
                    verification.append(check)
                    console.print(f"{file['path']}: FAILED: {error}")
                    continue
                verification.append(check)
                console.print(f"{file['path']}: {'ok' if check['ok'] else 'FAILED'} (top-1 agreement "
                              f"{check['top1_agreement']}, KL {check['mean_kl_nats']}), "
                              f"{check['tokens_per_second']} tok/s: {check['reply'][:80]!r}")
            report["timings"]["verify_s"] = round(time.perf_counter() - t, 1)
    report.update(gguf=gguf, verification=verification, llama_cpp_python=llama_version)

    if config.ollama:
        stops = [] if chat_format else [tokenizer.eos_token] if tokenizer.eos_token else []
        text = modelfile.render_modelfile(f"./{gguf[0]['path']}", system=system_prompt, fmt=chat_format,
                                          extra_stops=stops, parameters=OLLAMA_PARAMETERS)
        (out / "Modelfile").write_text(text, "utf-8")
        report["ollama"] = {"name": config.ollama, "modelfile": "Modelfile", "from": gguf[0]["path"],
                            "create": f"ollama create {config.ollama} -f {final / 'Modelfile'}"}

    evaluation = evaluation_rows(Evaluation.read(results["evaluation"])) if "evaluation" in results else None
    agreement = agreement_rows(Agreement.read(results["agreement"])) if "agreement" in results else None
    card = render_card(
        name=config.ollama or stem, source=config.model, exported_at=report["exported_at"][:10],
        base_model=base_model, base_model_id=base_model if "/" in base_model and not Path(base_model).exists()
        else None, folder_name=final.resolve().name, gguf=gguf, modelfile=bool(config.ollama), ollama_name=config.ollama,
        train_config=_train_settings(out), train_summary=_read_json(out / "train_summary.json"),
        evaluation=evaluation, agreement=agreement, verification=verification, llama_cpp_version=llama_version,
        system_prompt=system_prompt)
    (out / "README.md").write_text(card, "utf-8")

    report["timings"]["total_s"] = round(time.perf_counter() - started, 1)
    report["ok"] = all(check["ok"] for check in verification)
    write_json(out / "export_report.json", report)
    crashed = [check["error"] for check in verification if "error" in check]
    if crashed:
        raise SocraticError(crashed[0])
    failed = [check["file"] for check in verification if not check["ok"]]
    if failed:
        raise SocraticError(f"GGUF verification failed for {', '.join(failed)}: see {final / 'export_report.json'}")
