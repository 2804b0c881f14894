#!/bin/bash
# The sandbox as a person uses it: xen-sandbox plus Debian's xenstore-utils.
set -u
SB=$1
fails=0
check() {	# check DESCRIPTION COMMAND... : the command must succeed
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fails=$((fails + 1)); fi
}
case ${XEN_SANDBOX_FLAVOUR:-c} in
ocaml) daemon=oxenstored other=c ;;
*) daemon=xenstored other=ocaml ;;
esac
[ -x /usr/lib/xen-4.17/bin/$daemon ] || { echo "skip: xen-utils-4.17 is not installed"; exit 77; }

dir=$(mktemp -d /tmp/xen-sandbox-cli-XXXXXX)
export XEN_SANDBOX_DIR=$dir
trap '"$SB" stop >/dev/null 2>&1; rm -rf "$dir"' EXIT

# Refusals come with a reason.
long=/tmp/$(printf 'x%.0s' $(seq 1 100))
out=$("$SB" -d "$long" start 2>&1)
check "a socket path too long is refused" test $? -ne 0
check "... saying why" grep -q "too long for a UNIX socket" <<<"$out"
out=$(XEN_SANDBOX_XENSTORED=/nonexistent/xenstored "$SB" start 2>&1)
check "a missing xenstored is refused" test $? -ne 0
check "... naming the package" grep -q "xen-utils-4.17" <<<"$out"

check "start" "$SB" start
check "status says running" "$SB" status
check "... the daemon of \$XEN_SANDBOX_FLAVOUR: $daemon" bash -c "'$SB' status | grep -q '($daemon pid'"
out=$("$SB" start --xenstored $other 2>&1)
check "a second start in the same directory is refused, whatever the daemon" grep -q "already running" <<<"$out"
out=$("$SB" start --xenstored java 2>&1)
check "an unknown daemon is refused" grep -q "c or ocaml" <<<"$out"
out=$("$SB" start 2>&1)
check "a second start in the same directory is refused" grep -q "already running" <<<"$out"
export $("$SB" env)

# xenstore-watch's lines, read as they come (each within 10 s). The first is
# the event every watch fires once it is registered: after it, none is missed.
watch() {	# watch PATH N: the watcher on fd $watcher, until N events
	exec {watcher}< <(timeout 10 xenstore-watch -n "$2" "$1")
}
events() {	# events PATH N: the next N lines of the watcher are all PATH
	local line
	for _ in $(seq "$2"); do
		read -r -t 10 -u "$watcher" line && [ "$line" = "$1" ] || return 1
	done
}

watch @introduceDomain 3
check "xenstore-watch registered its watch" events @introduceDomain 1
check "create and introduce a domain" "$SB" create 12 web12
check "xenstore-read sees the toolstack's keys" test "$(xenstore-read /local/domain/12/name)" = web12
check "the guest writes over its ring" "$SB" guest 12 write data/os_name Debian
check "dom0 reads what the guest wrote" test "$(xenstore-read /local/domain/12/data/os_name)" = Debian
check "the guest reads it back" test "$("$SB" guest 12 read data/os_name)" = Debian
check "the guest may not write the toolstack's name" bash -c "! '$SB' guest 12 write name x 2>/dev/null"
check "the guest may not read dom0's keys" bash -c "! '$SB' guest 12 read /local/domain/0/name 2>/dev/null"
check "xenstore-write and xenstore-ls as dom0" bash -c "xenstore-write /local/domain/12/attr/x 1 && xenstore-ls /local/domain/12/attr | grep -q 'x = \"1\"'"
check "xenstore-rm" bash -c "xenstore-rm /local/domain/12/attr/x && ! xenstore-read /local/domain/12/attr/x 2>/dev/null"
guest_env=$("$SB" guest-socket 12)
check "guest-socket prints the guest's XENSTORED_PATH" test "$guest_env" = "XENSTORED_PATH=$dir/guest-12.sock"
check "xenstore-write as the guest, by relative path" env "$guest_env" xenstore-write attr/y 2
check "... lands in its home" test "$(xenstore-read /local/domain/12/attr/y)" = 2
check "... and the guest may not write its name" bash -c "! env '$guest_env' xenstore-write name evil 2>/dev/null"
check "a second domain" "$SB" create 13
check "xenstore-watch saw two introductions" events @introduceDomain 2
exec {watcher}<&-

watch @releaseDomain 3
check "xenstore-watch registered its watch" events @releaseDomain 1
check "crash domain 12" "$SB" crash 12
check "release domain 13" "$SB" release 13
check "xenstore-watch saw both releases" events @releaseDomain 2
exec {watcher}<&-
check "destroy" "$SB" destroy 12
check "stop" "$SB" stop
check "status says stopped" bash -c "! '$SB' status >/dev/null"

echo "$fails failed"
[ "$fails" -eq 0 ]
