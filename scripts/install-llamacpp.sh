#!/usr/bin/env bash
# Install llama-cpp-python built for every x86-64 machine this project meets, not just this one.
#
#     bash scripts/install-llamacpp.sh .venv/bin/python        # `make test` runs this
#
# Why not pip's default build: it compiles llama.cpp with GGML_NATIVE=ON (-march=native). On Intel
# Xeons with AMX (Sapphire Rapids and later) that build enables llama.cpp's AMX kernels and
# segfaults in decode on the embedded model (issue 14). This build switches native detection off
# and names the instruction sets: AVX, AVX2, FMA, F16C, BMI2 (every x86-64 CPU since 2013-2015).
# No AVX-512 and no AMX code is compiled, so nothing picks an AMX kernel at run time; the cost in
# decode speed against the native build is measured in bench/bench_llamacpp_build.py.
#
# pip's wheel cache keys a built wheel by the sdist, not by CMAKE_ARGS, so a native wheel cached
# earlier would be reused silently. The wheel is therefore built with --no-cache-dir into a folder
# named after the version and a hash of the flags, installed from there only (--no-index), and the
# installed library's system-info line is checked afterwards.
set -euo pipefail

PYTHON=${1:-.venv/bin/python}
VERSION=${LLAMACPP_VERSION:-0.3.36}
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
KEY=$(printf '%s %s' "$VERSION" "$FLAGS" | sha256sum | cut -c1-12)
WHEELS=${SOCRATIC_HOME:-$HOME/.cache/socratic}/wheels/llama-cpp-python-$VERSION-portable-$KEY

if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $VERSION for any x86-64 CPU (AVX2, no AVX-512/AMX), once: ~5 min" >&2
    mkdir -p "$WHEELS.tmp"
    CMAKE_ARGS="$FLAGS" FORCE_CMAKE=1 "$PYTHON" -m pip wheel --quiet --no-cache-dir --no-deps \
        --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -w "$WHEELS.tmp"
    rm -rf "$WHEELS" && mv "$WHEELS.tmp" "$WHEELS"
fi
# Its dependencies (numpy, jinja2, diskcache, typing-extensions) come from the index as usual; the
# wheel itself only from $WHEELS.
"$PYTHON" -m pip install --quiet --force-reinstall --no-deps "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl
"$PYTHON" -m pip install --quiet "llama-cpp-python==$VERSION" --find-links "$WHEELS" --no-cache-dir

# The proof: the loaded library reports AVX2 and neither AVX-512 nor AMX.
"$PYTHON" - <<'EOF'
import sys

import llama_cpp

info = llama_cpp.llama_print_system_info().decode()
bad = [word for word in ("AVX512", "AMX") if word in info]
if "AVX2 = 1" not in info or bad:
    sys.exit(f"llama-cpp-python is not the portable build ({', '.join(bad) or 'no AVX2'} in: {info.strip()}); "
             "remove it (pip uninstall llama-cpp-python) and run scripts/install-llamacpp.sh again")
print(f"llama-cpp-python {llama_cpp.__version__}, portable build: {info.strip()}")
EOF
