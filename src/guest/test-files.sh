#!/bin/bash
# The guest tool's installed files as systemd and man read them: the units
# verify (with the program at its build path), the man page documents
# every exit status (man/test-man.sh renders every page).
set -u
prog=$1 service=$2 path_unit=$3 man=${4:-}
fails=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
dir=$(mktemp -d /tmp/xgm-guest-files-XXXXXX)
trap 'rm -rf "$dir"' EXIT

if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=[^ ]*|ExecStart=$prog|" "$service" >"$dir/$(basename "$service")"
	cp "$path_unit" "$dir/"
	check "the units verify" systemd-analyze verify --man=no "$dir"/*.service "$dir"/*.path
	check "the service runs the program with --quiet" grep -q "^ExecStart=.*xgm-not-upgradable --quiet$" "$service"
	check "the path unit watches the file" grep -qx "PathChanged=/etc/pv-drivers-not-upgradable" "$path_unit"
else
	echo "skip - systemd-analyze is not installed"
fi
if [ -n "$man" ]; then
	check "... and documents every exit status" bash -c "for s in 0 1 2 3 4; do groff -man -Tutf8 '$man' 2>/dev/null | col -b | grep -q \"^ *\$s\$\" || exit 1; done"
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
