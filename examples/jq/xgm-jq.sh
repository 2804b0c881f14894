# jq one-liners over xgmctl's JSON (docs/protocol.md), as shell functions.
#
#   . examples/jq/xgm-jq.sh      # then: xgm_out_of_date, xgm_not_live, ...
#
# or copy a line. xgmctl reads the socket from $XGM_SOCKET, else
# /run/xgm/xgmd.sock. Each query prints one guest per line, its domid
# first, tab-separated; tests/examples/test-jq.py runs every one of them
# against a real xgmd and checks the domids.

# Every guest's current state: one `xgmctl get` reply per line. `list`
# names the domains, `get` has their metrics; dom0 runs no guest agent.
# A domain destroyed between the two is a NotFound on stderr (xargs then
# exits 123); the others are still printed.
xgm_guests() {
	xgmctl list | jq -r '.domains[] | select(.id != 0) | .id' | xargs -r -n1 xgmctl get
}

# A guest's tools version as major.minor.micro, for the queries below.
XGM_JQ_DEFS='def tools: [.data.pv_drivers_version | .major, .minor, .micro | values] | join(".");'

# Guests whose PV tools are out of date: detected, but older than
# metrics.reference_version (and not marked NotUpgradable).
xgm_out_of_date() {
	xgm_guests | jq -r "$XGM_JQ_DEFS"' select(.data.pv_drivers_detected and (.data.pv_drivers_up_to_date | not)) | [.domain.id, .domain.name, tools] | @tsv'
}

# Guests whose agent is not live: no agent write within
# metrics.live_timeout_s, or none ever (last update "never").
xgm_not_live() {
	xgm_guests | jq -r 'select(.data.live | not) | [.domain.id, .domain.name, (.data.last_updated // "never" | tostring)] | @tsv'
}

# Appliances that set attr/PVAddons/NotUpgradable: counted as up to date
# whatever their tools' version, which is still shown.
xgm_not_upgradable() {
	xgm_guests | jq -r "$XGM_JQ_DEFS"' select(.data.pv_drivers_not_upgradable) | [.domain.id, .domain.name, tools] | @tsv'
}

# Guests with no PV tools at all.
xgm_no_tools() {
	xgm_guests | jq -r 'select(.data.pv_drivers_detected | not) | [.domain.id, .domain.name] | @tsv'
}

# Guests with less than PERCENT (default 10) % of their memory free.
xgm_low_memory() {
	xgm_guests | jq -r --argjson pct "${1:-10}" 'select(.data.memory.total_kib and .data.memory.free_kib and .data.memory.free_kib * 100 < .data.memory.total_kib * $pct) | [.domain.id, .domain.name, .data.memory.free_kib, .data.memory.total_kib] | @tsv'
}

# Each guest's first IPv4 address, "-" when it reports none.
xgm_ipv4() {
	xgm_guests | jq -r '[.domain.id, .domain.name, ([.data.networks | to_entries[] | select(.key | test("^[0-9]+/ipv4/")) | .value][0] // "-")] | @tsv'
}

# Guests that hit limits.max_keys_per_domain: their metrics are partial.
xgm_limit_reached() {
	xgm_guests | jq -r 'select(.data.limit_reached) | [.domain.id, .domain.name] | @tsv'
}

# Every domain xgmd knows, dom0 included, from `list` alone.
xgm_domains() {
	xgmctl list | jq -r '.domains[] | [.id, .name // "-", .uuid // "-", .state] | @tsv'
}

# As they happen: each guest whose tools become up to date or out of
# date. Arguments go to xgmctl monitor (--domain N, --count N).
xgm_watch_tools() {
	xgmctl monitor --no-snapshot --event domain.metrics "$@" | jq --unbuffered -r 'select(.type == "event" and (.changed | index("pv_drivers_up_to_date"))) | [.domain.id, .domain.name, (if .data.pv_drivers_up_to_date then "up to date" else "out of date" end)] | @tsv'
}

# xgmd's health at a glance: clients, slow subscribers, xenstore.
xgm_health() {
	xgmctl stats | jq -c '{clients: .server.clients, events_dropped: .server.events_dropped, lost_notices: .server.lost_notices, domains: .engine.domains, xenstore_connected: .engine.xenstore_connected}'
}
