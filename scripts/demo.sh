#!/bin/bash
# The main job, end to end: installs what is missing, builds, starts a
# xenstore sandbox (Debian's real xenstored), and has xgm-scenario replay
# the demo's guests (tests/scenarios/demo.scn) against an xgmd it starts
# there, checking every event, while xgmctl monitor shows them as they come.
#
#   scripts/demo.sh [--xenstored c|ocaml]
#
# --xenstored ocaml runs it on oxenstored, Debian's default xenstored and
# XenServer's and XCP-ng's; c (the default) on the C xenstored.
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${XEN_SANDBOX_FLAVOUR:-c}
while [ $# -gt 0 ]; do
	case $1 in
	--xenstored) flavour=${2:-}; shift 2 || { echo "usage: $0 [--xenstored c|ocaml]" >&2; exit 2; } ;;
	--xenstored=*) flavour=${1#*=}; shift ;;
	*) echo "usage: $0 [--xenstored c|ocaml]" >&2; exit 2 ;;
	esac
done
case $flavour in
c) daemon="Debian's C xenstored" ;;
ocaml) daemon="Debian's oxenstored (its default, and XenServer's and XCP-ng's)" ;;
*) echo "$0: --xenstored $flavour: c or ocaml" >&2; exit 2 ;;
esac
export XEN_SANDBOX_FLAVOUR=$flavour

scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

SB=build/subprojects/xen-sandbox/xen-sandbox
RUNNER=build/tests/harness/xgm-scenario
XGMCTL=build/src/xgmctl/xgmctl
SCENARIO=tests/scenarios/demo.scn
# A private directory, removed at exit: two users can run the demo at once,
# and xgmd's log in it starts empty each run.
XEN_SANDBOX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xgm-demo.XXXXXX")
export XEN_SANDBOX_DIR
# Where xgm-scenario starts xgmd in a sandbox it is given (docs/scenarios.md).
SOCK=$XEN_SANDBOX_DIR/xgm-scenario.sock

pids=()
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$SB" stop >/dev/null 2>&1 || true
	rm -rf "$XEN_SANDBOX_DIR"
}
trap cleanup EXIT
# Background jobs of a script ignore Ctrl-C, and xgmd runs in a process
# group of its own: the EXIT trap stops them all.
trap 'echo; echo "== Interrupted."; exit 130' INT TERM

# Bold only on a terminal.
if [ -t 1 ]; then
	bold() { printf '\033[1m%s\033[0m\n' "$*"; }
else
	bold() { printf '%s\n' "$*"; }
fi

"$SB" start >/dev/null
rm -f "$SOCK"
bold "== A xenstore sandbox in $XEN_SANDBOX_DIR: $daemon, no hypervisor."
bold "== xgm-scenario starts xgmd in it and replays $SCENARIO: the toolstack and four guests"
bold "   writing as their agents do. xgmctl monitor prints each event xgmd publishes (JSON)."

# The runner waits for the monitor to subscribe before its first step.
"$RUNNER" --sandbox "$XEN_SANDBOX_DIR" --notes --wait-subscribers 1 "$SCENARIO" &
runner=$!
pids+=("$runner")
for _ in $(seq 200); do
	[ -S "$SOCK" ] && break
	kill -0 "$runner" 2>/dev/null || break
	sleep 0.05
done
# It exits 4 on xgmd's "bye" when the runner stops xgmd at the end: only
# other endings are worth showing.
"$XGMCTL" --socket "$SOCK" monitor --no-snapshot 2>"$XEN_SANDBOX_DIR/xgmctl.err" &
monitor=$!
pids+=("$monitor")

status=0
wait "$runner" || status=$?
for _ in $(seq 50); do
	kill -0 "$monitor" 2>/dev/null || break
	sleep 0.1
done
kill "$monitor" 2>/dev/null || true
mstatus=0
wait "$monitor" 2>/dev/null || mstatus=$?
[ "$mstatus" -eq 4 ] || cat "$XEN_SANDBOX_DIR/xgmctl.err" >&2

echo
if [ "$status" -eq 0 ]; then
	bold "== Done: every event above is the one the scenario expects, on time; none more."
	echo "   Step by step, with the scenario's clock: $RUNNER --verbose $SCENARIO"
	echo "   Running xgmd on a Xen host, and xgmctl list/get/stats: README.md."
else
	bold "== The demo scenario failed (xgm-scenario exit status $status): see its report above."
fi
exit "$status"
