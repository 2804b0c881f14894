#!/bin/bash
# Watching a run as scripts/demo.sh does: xgm-scenario, given a sandbox,
# waits for xgmctl monitor to subscribe before its first step, so that the
# monitor sees every event the runner checked, and --notes prints captions.
set -u
SB=$1 RUNNER=$2 XGMCTL=$3 SCENARIO=$4
fails=0
check() {	# check DESCRIPTION COMMAND... : the command must succeed
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
[ -x /usr/lib/xen-4.17/bin/xenstored ] || { echo "skip: xen-utils-4.17 is not installed"; exit 77; }

dir=$(mktemp -d /tmp/xgm-watch-XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; "$SB" -d "$dir" stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$SB" -d "$dir" start >/dev/null || exit 1

"$RUNNER" --sandbox "$dir" --notes --wait-subscribers 1 "$SCENARIO" >"$dir/runner.out" &
runner=$!
pids+=("$runner")
for _ in $(seq 200); do
	[ -S "$dir/xgm-scenario.sock" ] && break
	sleep 0.05
done
# Late on purpose: the runner must not start without the monitor.
sleep 0.5
"$XGMCTL" --socket "$dir/xgm-scenario.sock" monitor --no-snapshot >"$dir/monitor.out" 2>&1 &
monitor=$!
pids+=("$monitor")
wait "$runner"
check "the scenario passes" test $? -eq 0
wait "$monitor"
check "the monitor ends on xgmd's bye (exit 4)" test $? -eq 4
cat "$dir/runner.out"

events=$(sed -n 's/^PASS .*: \([0-9]*\) events.*/\1/p' "$dir/runner.out")
check "the runner counts its events" test -n "$events"
check "the monitor saw every one of them" test "$(grep -c '"type":"event"' "$dir/monitor.out")" = "$events"
check "notes are printed as captions" grep -q '^== ' "$dir/runner.out"

exit $((fails > 0))
