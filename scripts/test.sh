#!/bin/bash
# Runs every test: installs what is missing, builds with warnings as errors,
# runs the whole suite, then again under AddressSanitizer and UBSan, runs
# each fuzz harness for a bounded time, and prints one summary line:
# "N passed, N failed, N skipped". The xenstore sandbox is also built and
# tested on its own, as the project it is. Every test that needs a xenstored is
# registered once per daemon (NAME@c, NAME@ocaml), so each build runs it on
# the C xenstored and on oxenstored. A third build, of the unit and
# component tests alone, is made as on a machine without libxen-dev.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1

# One summary over every build's testlog.json.
summarize() {
	python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    try:
        lines = open(log).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
}

status=0
run_build() {	# run_build DIR SOURCE_DIR [meson options...]
	local dir=$1 src=$2; shift 2
	# A build dir made by someone else (the demo makes build/) gets our options too.
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "$src" -Dwerror=true "$@" >/dev/null || return 1
	else
		meson configure "$dir" -Dwerror=true "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs "${MESON_TEST_ARGS[@]}" || status=1
}

# A machine without libxen-dev still builds and runs the unit and component
# tests: configured where pkg-config finds none of libxen-dev's .pc files,
# built, run, and checked that nothing built used one of its headers. Set
# up afresh each time (a regeneration would not see PKG_CONFIG_LIBDIR).
run_without_xen() {	# run_without_xen DIR
	local dir=$1 pc used
	pc=$(mktemp -d /tmp/xgm-noxen-pc-XXXXXX) || return 1
	for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
		for f in "$d"/*.pc; do
			[ -e "$f" ] || continue
			case ${f##*/} in xen*) ;; *) [ -e "$pc/${f##*/}" ] || cp "$f" "$pc/" ;; esac
		done
	done
	rm -rf "$dir"
	PKG_CONFIG_LIBDIR=$pc meson setup "$dir" -Dwerror=true >/dev/null || { rm -rf "$pc"; return 1; }
	rm -rf "$pc"
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
	used=$(ninja -C "$dir" -t deps | grep -Fx -f <(dpkg -L libxen-dev | grep '\.h$' | sed 's/^/    /');
	       grep -o -- '-lxen[a-z]*\|[^ ]*libxen[a-z]*\.\(so\|a\)' "$dir/build.ninja")
	if [ -n "$used" ]; then
		echo "built without the Xen libraries, yet these files of libxen-dev were used:" >&2
		echo "$used" | sort -u >&2
		return 1
	fi
	meson test -C "$dir" --print-errorlogs --suite unit --suite component || status=1
}

MESON_TEST_ARGS=("$@")
run_build build . || status=1
run_build build-sanitize . -Db_sanitize=address,undefined -Db_lundef=false || status=1
run_without_xen build-noxen || status=1
# The sandbox on its own, as another project would build it: its own
# project, options and tests, none of xgm's (subprojects/xen-sandbox/README.md).
# Some ten seconds; the two builds above run its tests as a subproject.
# All of them, whatever was asked of xgm's: the names are not xgm's.
MESON_TEST_ARGS=()
run_build build-xen-sandbox subprojects/xen-sandbox || status=1

# Each fuzz harness briefly, on top of its seeds (a long run is by hand: docs/robustness.md).
scripts/fuzz.sh 10 || status=1

summarize build/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json \
	build-noxen/meson-logs/testlog.json build-xen-sandbox/meson-logs/testlog.json
exit $status
