#!/bin/bash
# Every man page renders without a single groff warning (groff -ww: all
# warnings), on the typesetter and on a terminal, is plain ASCII (so that
# no device or man(1) reads it differently), and has NAME and DESCRIPTION.
set -u
fails=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
for page in "$@"; do
	name=$(basename "$page")
	for device in ps utf8; do
		out=$(groff -ww -z -T$device -man "$page" 2>&1)
		check "$name renders on $device without warnings" test -z "$out"
		[ -z "$out" ] || printf '%s\n' "$out"
	done
	check "$name is ASCII" bash -c "! LC_ALL=C grep -q '[^[:print:][:space:]]' '$page'"
	for s in NAME DESCRIPTION; do
		check "$name has $s" grep -Eq "^\.SH \"?$s\"?$" "$page"
	done
done
echo "$fails failed"
[ "$fails" -eq 0 ]
