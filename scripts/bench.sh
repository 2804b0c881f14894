#!/bin/bash
# Runs the benchmark (docs/benchmarks.md): installs what is missing, builds
# an optimised xgmd and xgm-bench in build-release, and runs it with the
# arguments given (default: 1000 domains; --domains 100, --json FILE, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
if [ ! -d build-release ]; then
	meson setup build-release --buildtype=release >/dev/null
fi
ninja -C build-release >/dev/null
exec build-release/tests/bench/xgm-bench "$@"
