#!/bin/bash
# The main job, end to end: installs what is missing, builds, starts a
# xenstore sandbox (Debian's real xenstored) and xgmd, has a few guests
# write the way real agents do, and shows the events xgmd publishes.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

SB=build/tests/sandbox/xgm-sandbox
XGMD=build/src/xgmd/xgmd
XGMCTL=build/src/xgmctl/xgmctl
export XGM_SANDBOX_DIR=/tmp/xgm-demo
SOCK=$XGM_SANDBOX_DIR/xgmd.sock
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$SB" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$SB" stop >/dev/null 2>&1 || true
"$SB" start
export $("$SB" env)

# A reference version: tools older than 9.0 are "not up to date".
"$XGMD" --foreground --socket "$SOCK" --log-level notice \
	--set metrics.reference_version=9.0 --set settle.quiet_ms=200 &
pids+=($!)
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; sleep 0.2; }
guest() { "$SB" guest "$@" >/dev/null; }

"$XGMCTL" --socket "$SOCK" monitor &
pids+=($!)
sleep 0.3

say "An appliance boots; its agent writes old tools versions (6.2)"
"$SB" create 1 appliance
guest 1 write attr/PVAddons/MajorVersion 6
guest 1 write attr/PVAddons/MinorVersion 2
guest 1 write attr/PVAddons/MicroVersion 0
guest 1 write attr/PVAddons/BuildVersion 76888
guest 1 write data/os_name "Appliance OS 3"
guest 1 write data/updated 1
sleep 0.6

say "It sets NotUpgradable=1: up to date, versions still visible"
guest 1 write attr/PVAddons/NotUpgradable 1
guest 1 write data/updated 1
sleep 0.6

say "A Linux guest (xe-guest-utilities): a burst of writes, then data/updated"
"$SB" create 2 web01
for kv in data/os_distro=debian data/os_majorver=12 data/os_minorver=5 \
	data/os_uname=6.1.0-18-amd64 attr/PVAddons/MajorVersion=9 \
	attr/PVAddons/MinorVersion=4 attr/PVAddons/MicroVersion=0 \
	attr/vif/0/ipv4/0=192.0.2.10 attr/vif/0/ipv6/0=2001:db8::10 \
	data/meminfo_total=4194304 data/meminfo_free=2097152; do
	guest 2 write "${kv%%=*}" "${kv#*=}"
done
guest 2 write data/updated "Wed Nov 25 10:00:00 UTC 2026"
sleep 0.6

say "Its agent's next cycle rewrites the same values: no event"
guest 2 write data/meminfo_free 2097152
guest 2 write attr/vif/0/ipv4/0 192.0.2.10
guest 2 write data/updated "Wed Nov 25 10:01:00 UTC 2026"
sleep 0.6

say "Memory changes, no kick: the batch settles on its own"
guest 2 write data/meminfo_free 1048576
sleep 0.6

say "The query side: xgmctl get 1"
"$XGMCTL" --socket "$SOCK" get 1
sleep 0.2

say "The appliance shuts down and is destroyed"
"$SB" dying 1
sleep 0.6
