#!/usr/bin/env python3
"""
examples/telegraf/xgm.conf and examples/vector/xgm.toml. Neither Telegraf
nor Vector is packaged in Debian 12, so neither runs here. Instead: both
files parse as TOML (tomllib), and the exact command each configures runs
against the real xgmd over the sandbox's real xenstored while guests come,
write and go. Every line it prints must be a JSON object; for Telegraf,
every line goes through json_v2's rules for the configured tags and fields
(a missing optional path skipped, null ignored, each value converted to its
type or the line fails) and each event becomes one point with its fields;
for Vector, every event the filter passes has every path the remap reads.
When xgmd shuts down, both commands end (status 4) for the collector to
start them again.
"""
import json
import os
import re
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xgmtest import Failure, Lines, Sandbox, check, run  # noqa: E402

EXAMPLES = os.environ["XGM_EXAMPLES"]
GUEST, NEWCOMER = 21, 22


def load(path):
    with open(os.path.join(EXAMPLES, path), "rb") as f:
        return tomllib.load(f)


def resolve(obj, path):
    """A GJSON path of plain dotted keys; (found, value)."""
    for key in path.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return False, None
        obj = obj[key]
    return True, obj


def convert(value, kind, name):
    """json_v2's convertType for the types this config uses."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "t", "f"):
            return value.lower() in ("true", "1", "t")
    elif kind == "int":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value):
            return int(value)
    elif kind == "string":
        return value if isinstance(value, str) else json.dumps(value)
    raise Failure(f"json_v2 cannot convert {name}={value!r} to {kind}")


def telegraf_point(config, message):
    """The metric json_v2 makes of one line: (tags, fields), or None for no metric."""
    tags, fields = {}, {}
    for entries, out, is_tag in ((config.get("tag", []), tags, True), (config.get("field", []), fields, False)):
        for entry in entries:
            found, value = resolve(message, entry["path"])
            if not found:
                if not entry.get("optional"):
                    raise Failure(f"json_v2: the path {entry['path']} doesn't exist in {message['type']}")
                continue
            if value is None:
                continue
            name = entry.get("rename") or entry["path"].split(".")[-1]
            kind = "string" if is_tag else entry.get("type")
            out[name] = convert(value, kind, name) if kind else value
    return (tags, fields) if tags or fields else None


def vrl_paths(source):
    """The event paths a VRL program reads: .a.b outside strings."""
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)
    return sorted(set(re.findall(r"(?<![\w.])\.([a-z_]+(?:\.[a-z_]+)*)", code)))


def run_command(sb, argv):
    check(argv[0] == "xgmctl", f"the command runs xgmctl: {argv}")
    return Lines([sb.xgmctl_path, *argv[1:]], env=sb.env)


def events(lines):
    return [m for m in map(json.loads, lines) if m["type"] == "event"]


def test():
    telegraf = load("telegraf/xgm.conf")
    vector = load("vector/xgm.toml")

    execd = telegraf["inputs"]["execd"]
    check(len(execd) == 1 and execd[0]["data_format"] == "json_v2" and execd[0]["signal"] == "none"
          and execd[0]["restart_delay"], "Telegraf: one execd input, json_v2, unsignalled, restarted")
    json_v2 = execd[0]["json_v2"]
    check(len(json_v2) == 1 and all(e.get("optional") for e in json_v2[0]["tag"] + json_v2[0]["field"]),
          "Telegraf: every tag and field is optional (lines that are not events make no metric)")
    check("timestamp_path" not in json_v2[0], "Telegraf: no timestamp_path (snapshot-end has none)")

    source = vector["sources"]["xgm"]
    check(source["type"] == "exec" and source["mode"] == "streaming"
          and source["decoding"]["codec"] == "json" and source["framing"]["method"] == "newline_delimited"
          and source["include_stderr"] is False and source["streaming"]["respawn_on_exit"] is True,
          "Vector: a streaming exec source, newline-delimited JSON, stderr apart, respawned")
    transforms = vector["transforms"]
    check(transforms["xgm_events"]["inputs"] == ["xgm"]
          and transforms["xgm_events"]["condition"] == '.type == "event"',
          "Vector: the filter passes events only")
    check(transforms["xgm_guests"]["inputs"] == ["xgm_events"]
          and vector["sinks"]["out"]["inputs"] == ["xgm_guests"], "Vector: source -> filter -> remap -> sink")
    remap_paths = vrl_paths(transforms["xgm_guests"]["source"])
    check("domain.id" in remap_paths and "data.live" in remap_paths, f"Vector: the remap reads {remap_paths}")

    with Sandbox(["settle.quiet_ms=20"]) as sb:
        sb.create(GUEST, "web01")
        sb.guest_write(GUEST, {"attr/PVAddons/MajorVersion": 8, "attr/PVAddons/MinorVersion": 4,
                               "data/os_name": "Debian GNU/Linux 12", "data/meminfo_total": 4019612,
                               "data/meminfo_free": 2893448, "attr/vif/0/ipv4/0": "192.0.2.10",
                               "data/updated": 1})
        sb.wait_data(GUEST, "its memory", memory__free_kib=2893448)

        t = run_command(sb, execd[0]["command"])
        v = run_command(sb, source["command"])
        try:
            for c in (t, v):
                c.until(lambda l: json.loads(l)["type"] == "snapshot-end", "snapshot-end")
            # Live: a domain comes, a guest writes, a domain goes.
            sb.create(NEWCOMER, "newcomer")
            sb.wait_known(NEWCOMER)
            sb.guest_write(GUEST, {"data/meminfo_free": 1000, "data/updated": 2})
            sb.wait_data(GUEST, "its new memory", memory__free_kib=1000)
            for c in (t, v):
                c.until(lambda l: json.loads(l).get("data", {}).get("memory", {}).get("free_kib") == 1000,
                        "the live domain.metrics event")
            sb.destroy(NEWCOMER)
            v.until(lambda l: json.loads(l).get("event") == "domain.gone", "domain.gone")
            sb.stop_xgmd()
            for c, name in ((t, "Telegraf"), (v, "Vector")):
                check(c.wait() == 4, f"{name}'s command ends with status 4 when xgmd shuts down: "
                      f"{c.stderr().strip()}")
        finally:
            t.stop()
            v.stop()

    for c, name in ((t, "Telegraf"), (v, "Vector")):
        messages = []
        for line in c.seen:
            try:
                messages.append(json.loads(line))
            except ValueError:
                raise Failure(f"{name}: not JSON: {line}") from None
        check(all(isinstance(m, dict) and isinstance(m.get("type"), str) for m in messages),
              f"{name}: every one of its {len(messages)} lines is a JSON object with a type")

    # Telegraf: one point per event, with every field for the guest that says everything.
    seen = events(t.seen)
    check({(m["event"], m["domain"]["id"]) for m in seen}
          == {("domain.snapshot", 0), ("domain.snapshot", GUEST), ("domain.new", NEWCOMER),
              ("domain.metrics", GUEST)},
          "Telegraf's command: the snapshot, then domain.new and domain.metrics only")
    names = {e.get("rename") or e["path"].split(".")[-1] for e in json_v2[0]["field"]}
    for line in t.seen:
        message = json.loads(line)
        point = telegraf_point(json_v2[0], message)
        if message["type"] != "event":
            check(point is None, f"Telegraf: a {message['type']} line makes no metric")
            continue
        tags, fields = point
        check(tags.get("domid") == str(message["domain"]["id"]) and fields,
              f"Telegraf: {message['event']} of {message['domain']['id']} is a point tagged domid, "
              f"with {len(fields)} fields")
        if message["domain"]["id"] == GUEST:
            check(set(fields) == names and tags["name"] == "web01"
                  and tags["vm_uuid"] == message["domain"]["uuid"],
                  f"Telegraf: the guest's {message['event']} has every field: {sorted(fields)}")
    # No loss happens here; a lost line, as docs/protocol.md shows it, must make no point either.
    lost = {"type": "lost", "count": 120, "first_seq": 5000, "last_seq": 5130}
    check(telegraf_point(json_v2[0], lost) is None, "Telegraf: a lost line makes no metric")
    last = telegraf_point(json_v2[0], [m for m in seen if m["event"] == "domain.metrics"][-1])[1]
    check(last["memory_free_kib"] == 1000 and last["agent_live"] is True
          and last["os_name"] == "Debian GNU/Linux 12", f"Telegraf: the values are the guest's: {last}")

    # Vector: what the filter passes has what the remap reads.
    seen = events(v.seen)
    check({m["event"] for m in seen} == {"domain.snapshot", "domain.new", "domain.metrics", "domain.gone"}
          and any(json.loads(l)["type"] == "snapshot-end" for l in v.seen),
          "Vector's command: every event, and snapshot-end for the filter to drop")
    for m in seen:
        found, seconds = resolve(m, "timestamp.seconds")
        check(found and isinstance(seconds, int), f"Vector: {m['event']} has timestamp.seconds for int!()")
    # Only a guest's metrics carry every path: .changed is a live event's, data
    # what the guest said; .host is Vector's own.
    full = [m for m in seen if m["event"] == "domain.metrics" and m["domain"]["id"] == GUEST]
    for path in remap_paths:
        if path == "host":
            continue
        check(full and all(resolve(m, path)[0] for m in full), f"Vector: the guest's metrics events have .{path}")


run(test)
