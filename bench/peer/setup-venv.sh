#!/usr/bin/env bash
# Makes the PyTorch peer's virtualenv under bench/peer/.venv (gitignored), from PyPI only. The peer is a
# benchmark reference, never a dependency of rpr-select. Idempotent: a venv that already imports the
# pinned versions is left as it is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${RPR_PEER_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  echo "$venv"
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
# PyPI's Linux x86_64 torch wheel is the CUDA build (it pulls the nvidia-* wheels); the peer runs it on the
# CPU (CUDA_VISIBLE_DEVICES is cleared by the benchmark), which is the same CPU code as the +cpu build.
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" >&2
echo "$venv"
