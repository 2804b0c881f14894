#!/bin/bash
# Every man page renders without a single groff warning (groff -ww: all
# warnings), and has the sections man(7) expects.
set -u
fails=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
for page in "$@"; do
	name=$(basename "$page")
	out=$(groff -ww -z -man "$page" 2>&1)
	check "$name renders without warnings" test -z "$out"
	[ -z "$out" ] || printf '%s\n' "$out"
	check "$name has NAME, SYNOPSIS and DESCRIPTION" \
		bash -c "for s in NAME SYNOPSIS DESCRIPTION; do grep -q \"^\.SH \\\"\\?\$s\" '$page' || exit 1; done"
done
echo "$fails failed"
[ "$fails" -eq 0 ]
