#!/bin/bash
# Installs the Debian 12 packages xgm needs to build, test and demo, if any
# is missing. Quiet and idempotent: does nothing when all are present.
#   deps.sh [PACKAGE...]    also these (scripts/package.sh's tools)
set -euo pipefail

packages=(
	build-essential meson ninja-build pkg-config python3
	libevent-dev libyajl-dev libxen-dev libcmocka-dev
	xen-utils-4.17 xenstore-utils valgrind python3-pyxs
	scdoc groff-base bsdextrautils
	prometheus jq
	clang libclang-rt-14-dev
	"$@"
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# No recommends: xen-utils would otherwise pull in QEMU and a boot loader.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
