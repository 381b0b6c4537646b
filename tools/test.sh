#!/usr/bin/env bash
# README command 2 (and CI's): set up, build, and run every test through
# ctest: the lit/FileCheck suite (dialect, passes, importer) and the Python
# checks (committed models, malformed input, ONNX node test coverage).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh"
build="${KILN_BUILD_DIR:-$root/build}"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
