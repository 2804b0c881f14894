#!/bin/bash
# The main job, end to end: installs what is missing, builds, starts a
# xenstore sandbox and shows what guest agents write as it happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

SB=build/tests/sandbox/xgm-sandbox
export XGM_SANDBOX_DIR=/tmp/xgm-demo
"$SB" stop >/dev/null 2>&1 || true
"$SB" start
export $("$SB" env)
watcher=
cleanup() {
	[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
	"$SB" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== xenstore-watch /local/domain (the raw writes guest agents make)"
xenstore-watch /local/domain &
watcher=$!
sleep 0.3
"$SB" create 1 appliance
"$SB" guest 1 write attr/PVAddons/MajorVersion 6
"$SB" guest 1 write attr/PVAddons/MinorVersion 2
"$SB" guest 1 write attr/PVAddons/NotUpgradable 1
"$SB" guest 1 write data/updated 1
sleep 0.5
