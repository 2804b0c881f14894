#!/bin/bash
# Builds the Debian packages of debian/ as Debian does and checks them:
#   scripts/package.sh [OUTDIR]     (the .debs are left in OUTDIR if given)
# Installs its tools first (deps.sh, with debhelper and lintian). Since
# dpkg-buildpackage writes into the parent directory, it runs in a scratch
# copy of the checkout (tracked and untracked files, not ignored ones), so
# the tree stays clean. Then: lintian, no error and no warning (each
# override in debian/*.lintian-overrides says why); what each package ships
# (dpkg-deb -c) against the lists below, nothing else but its docs; the
# conffile; Depends naming the package of every library the programs link;
# the postinst creating the group before it starts the units; the shipped
# programs run. Ends with "package: N passed, N failed".
set -uo pipefail
out=${1:+$(realpath -m "$1")}	# before the cd: relative to where it was called
cd "$(dirname "$0")/.."

scripts/deps.sh debhelper lintian dpkg-dev fakeroot || exit 1

passed=0 fails=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then
		echo "ok - $what"; passed=$((passed + 1))
	else
		echo "not ok - $what"; fails=$((fails + 1))
	fi
}
finish() {
	echo "package: $passed passed, $fails failed"
	[ "$fails" -eq 0 ]
	exit
}

# What each package must ship; anything else only under its doc directory.
xgm_files=(
	/usr/sbin/xgmd /usr/bin/xgmctl
	/usr/include/xgm/protocol.h
	/etc/xgm/xgmd.conf
	/lib/systemd/system/xgmd.service /lib/systemd/system/xgmd.socket
	/usr/share/man/man1/xgmctl.1.gz /usr/share/man/man5/xgmd.conf.5.gz
	/usr/share/man/man7/xgm-protocol.7.gz /usr/share/man/man8/xgmd.8.gz
)
guest_files=(
	/usr/sbin/xgm-not-upgradable
	/lib/systemd/system/xgm-not-upgradable.service /lib/systemd/system/xgm-not-upgradable.path
	/usr/share/man/man8/xgm-not-upgradable.8.gz
)

version=$(dpkg-parsechangelog -SVersion)
project_version=$(meson introspect --projectinfo meson.build |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
check "debian/changelog's version $version is meson.build's" test "$version" = "$project_version"
arch=$(dpkg --print-architecture)

tmp=$(mktemp -d /tmp/xgm-package-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/xgm-$version
mkdir "$src"
# --ignore-failed-read: a tracked file deleted in the tree is not copied.
git ls-files -z --cached --others --exclude-standard |
	tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -x -C "$src" || exit 1

start=$SECONDS
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -j2) >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log"
	check "dpkg-buildpackage -us -uc -b succeeds" false
	finish
fi
check "dpkg-buildpackage -us -uc -b succeeds ($((SECONDS - start)) s)" true
deb=$tmp/xgm_${version}_${arch}.deb
guest_deb=$tmp/xgm-guest_${version}_${arch}.deb
check "it builds xgm_${version}_${arch}.deb and xgm-guest_${version}_${arch}.deb" \
	test -f "$deb" -a -f "$guest_deb"
[ -f "$deb" ] && [ -f "$guest_deb" ] || finish

start=$SECONDS
lintian --fail-on error,warning --display-info --pedantic --show-overrides --tag-display-limit 0 \
	"$tmp/xgm_${version}_${arch}.changes" >"$tmp/lintian.log" 2>&1
rc=$?
grep -v '^running with root privileges' "$tmp/lintian.log"
check "lintian: no error, no warning ($((SECONDS - start)) s)" test $rc -eq 0

# ships DEB PACKAGE FILE...: each FILE is in DEB, and nothing else is but docs.
ships() {
	local deb=$1 package=$2; shift 2
	local listed=$tmp/$package.files
	dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >"$listed"
	local f ok=0
	for f in "$@"; do
		grep -qxF "$f" "$listed" || { echo "# $package does not ship $f"; ok=1; }
	done
	# Everything else: the docs, the changelog, the copyright, lintian's overrides.
	local extra
	extra=$(printf '%s\n' "$@" | sort | comm -13 - "$listed" |
		grep -vE "^/usr/share/(doc|lintian/overrides)/$package(/|$)")
	[ -z "$extra" ] || { echo "# $package also ships:"; printf '#   %s\n' $extra; ok=1; }
	return $ok
}
check "xgm ships the programs, units, conffile, man pages and header, and no more" \
	ships "$deb" xgm "${xgm_files[@]}"
check "xgm-guest ships xgm-not-upgradable, its units and man page, and no more" \
	ships "$guest_deb" xgm-guest "${guest_files[@]}"
check "/etc/xgm/xgmd.conf is xgm's one conffile" \
	test "$(dpkg-deb -I "$deb" conffiles)" = /etc/xgm/xgmd.conf
check "the programs are root:root 0755" bash -c "{ dpkg-deb -c '$deb'; dpkg-deb -c '$guest_deb'; } |
	awk '/usr\/s?bin\/./ { if (\$1 != \"-rwxr-xr-x\" || \$2 != \"root/root\") bad = 1 } END { exit bad }'"

# Depends: for every library a shipped program links, the package holding it.
root=$tmp/root
dpkg-deb -x "$deb" "$root" && dpkg-deb -x "$guest_deb" "$root" || exit 1
depends_on_libraries() {	# depends_on_libraries DEB PROGRAM...
	local deb=$1; shift
	local depends lib file package ok=0
	depends=$(dpkg-deb -f "$deb" Depends)
	echo "# $(basename "$deb"): Depends: $depends"
	for lib in $(objdump -p "$@" | awk '$1 == "NEEDED" { print $2 }' | sort -u); do
		file=$(ldconfig -p | awk -v lib="$lib" '$1 == lib { print $NF; exit }')
		# dpkg knows a file by the path its package ships, /lib or /usr/lib.
		package=$(dpkg-query -S "$file" "$(realpath "$file")" "$(realpath "$file" | sed 's|^/usr/|/|')" \
			2>/dev/null | cut -d: -f1 | head -n 1)
		if [ -z "$package" ] || ! grep -qE "(^|, )$package( |,|$)" <<<"$depends"; then
			echo "# $lib ($file, package '${package:-none}') is not in Depends"
			ok=1
		fi
	done
	return $ok
}
check "xgm's Depends covers every library xgmd and xgmctl link" \
	depends_on_libraries "$deb" "$root/usr/sbin/xgmd" "$root/usr/bin/xgmctl"
check "xgm depends on adduser, which its postinst runs" \
	bash -c "dpkg-deb -f '$deb' Depends | grep -qE '(^|, )adduser(,|$)'"
check "xgm-guest's Depends covers every library xgm-not-upgradable links" \
	depends_on_libraries "$guest_deb" "$root/usr/sbin/xgm-not-upgradable"

# The postinst: the group first, then the units enabled and started.
postinst=$tmp/postinst
before() {	# before FILE FIRST THEN...: FIRST matches a line before each THEN's
	local file=$1 first then line; shift
	first=$(grep -nE -m1 "$1" "$file" | cut -d: -f1); shift
	[ -n "$first" ] || { echo "# nothing matches '$1'"; return 1; }
	for then in "$@"; do
		line=$(grep -nE -m1 "$then" "$file" | cut -d: -f1)
		[ -n "$line" ] && [ "$line" -gt "$first" ] || { echo "# no '$then' after line $first"; return 1; }
	done
}
dpkg-deb -I "$deb" postinst >"$postinst"
check "xgm's postinst creates the system group xgm, then enables and starts both units" \
	before "$postinst" '^[[:space:]]*addgroup --system (--quiet )?xgm' \
		"deb-systemd-helper enable 'xgmd.service'" "deb-systemd-helper enable 'xgmd.socket'" \
		"deb-systemd-invoke .*'xgmd.service' 'xgmd.socket'"
dpkg-deb -I "$guest_deb" postinst >"$postinst"
check "xgm-guest's postinst enables its units" \
	before "$postinst" '^set -e' "deb-systemd-helper enable 'xgm-not-upgradable.path'" \
		"deb-systemd-helper enable 'xgm-not-upgradable.service'"

# The programs as shipped start, against the libraries Depends names.
check "the shipped xgmd is version $version" \
	test "$("$root/usr/sbin/xgmd" --version)" = "xgmd $version"
check "the shipped xgmd accepts the shipped configuration" \
	"$root/usr/sbin/xgmd" --check-config --config "$root/etc/xgm/xgmd.conf"
check "the shipped xgmctl and xgm-not-upgradable run" \
	bash -c "'$root/usr/bin/xgmctl' --help >/dev/null && '$root/usr/sbin/xgm-not-upgradable' --help >/dev/null"

if [ -n "$out" ]; then
	mkdir -p "$out" && cp "$tmp"/*.deb "$out"/ && echo "# the packages are in $out"
fi
finish
