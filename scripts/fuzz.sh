#!/bin/bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (ASan + UBSan) in
# build-fuzz and runs each for a bounded time: scripts/fuzz.sh [SECONDS [RUNS]]
# (default 20 s each, no run limit). Starts from the seeds in
# tests/fuzz/corpus/<name>; what it finds goes to a scratch corpus, so the
# tree's seeds stay small. Prints one line per harness with its executions;
# exits non-zero when one crashed (the input is saved in build-fuzz/crashes).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
runs=${2:--1}
dir=build-fuzz

if [ ! -d "$dir" ]; then
	CC=clang meson setup "$dir" -Dfuzz=true -Dtests=false -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true >/dev/null || exit 1
fi
ninja -C "$dir" -j2 >/dev/null || { ninja -C "$dir" -j2; exit 1; }

status=0
mkdir -p "$dir/crashes"
for name in command config utf8 metrics format; do
	scratch=$(mktemp -d)
	log="$dir/fuzz-$name.log"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$dir/tests/fuzz/fuzz-$name" -max_total_time="$seconds" -runs="$runs" -max_len=65536 \
		-artifact_prefix="$dir/crashes/$name-" -print_final_stats=1 \
		"$scratch" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: ${execs:-?} executions, no crash"
	else
		echo "fuzz $name: CRASH after ${execs:-?} executions (see $log)"
		tail -n 30 "$log"
		status=1
	fi
	rm -rf "$scratch"
done
exit $status
