#!/usr/bin/env bash
# Regenerates the ODS-generated references in docs/ from a build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_BUILD_DIR:-$root/build}"
cmake --build "$build" --target kiln-docs
cp "$build/docs/KilnDialect.md" "$root/docs/dialect-reference.md"
cp "$build/docs/KilnPasses.md" "$root/docs/passes.md"
echo "updated docs/dialect-reference.md and docs/passes.md"
