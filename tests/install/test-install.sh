#!/bin/bash
# What `meson install` puts on a host: installs the build into a scratch
# DESTDIR and compares every file installed with the list the build says it
# installs (no more, no fewer), then checks the installed units and config
# as systemd and xgmd read them.
#   test-install.sh BUILD_ROOT UNIT_DIR SYSCONFDIR SBINDIR EXPECTED_FILE...
set -u
build=$1 unit_dir=$2 sysconfdir=$3 sbindir=$4; shift 4
fails=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
dest=$(mktemp -d /tmp/xgm-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT

check "meson install --destdir succeeds" \
	meson install -C "$build" --no-rebuild --quiet --destdir "$dest"
printf '%s\n' "$@" | sort >"$dest.expected"
(cd "$dest" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$dest.got"
check "it installs exactly the expected files" diff -u "$dest.expected" "$dest.got"
rm -f "$dest.expected" "$dest.got"

check "the service runs the installed xgmd" \
	grep -qx "ExecStart=$sbindir/xgmd --foreground" "$dest$unit_dir/xgmd.service"
check "the service reloads with SIGHUP" \
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$dest$unit_dir/xgmd.service"
check "the socket is 0660 root:xgm" \
	bash -c "grep -qx SocketMode=0660 '$dest$unit_dir/xgmd.socket' && grep -qx SocketGroup=xgm '$dest$unit_dir/xgmd.socket'"
check "the installed config is the defaults, and valid" \
	"$dest$sbindir/xgmd" --check-config --config "$dest$sysconfdir/xgm/xgmd.conf"
check "the installed header compiles on its own" \
	bash -c "echo '#include <xgm/protocol.h>' | cc -x c -fsyntax-only -Werror -I'$dest$(dirname "$(dirname "$(printf '%s\n' "$@" | grep /xgm/protocol.h)")")' -"
if command -v systemd-analyze >/dev/null; then
	# As installed, but running the xgmd of the DESTDIR, which exists.
	units=$dest.units
	mkdir "$units"
	sed "s|^ExecStart=$sbindir/|ExecStart=$dest$sbindir/|" "$dest$unit_dir/xgmd.service" >"$units/xgmd.service"
	cp "$dest$unit_dir/xgmd.socket" "$units/"
	check "systemd-analyze verify passes on the installed units" \
		systemd-analyze verify --man=no "$units/xgmd.service" "$units/xgmd.socket"
	rm -rf "$units"
else
	echo "skip - systemd-analyze is not installed"
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
