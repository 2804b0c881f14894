#!/usr/bin/env python3
"""
Every jq one-liner of examples/jq/xgm-jq.sh, run by bash against the real
xgmctl and xgmd over the sandbox's real xenstored, with guests chosen so
that each query has something to find and something to leave out; the
test checks the domids (and the values) each prints.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xgmtest import SKIP, Lines, Sandbox, check, log, run, wait_for  # noqa: E402

QUERIES = os.path.join(os.environ["XGM_EXAMPLES"], "jq", "xgm-jq.sh")
APPLIANCE, OLD, CURRENT, SILENT, BARE, MANY = 1, 2, 3, 4, 5, 6
MAX_KEYS = 40


def tools(major, minor):
    return {"attr/PVAddons/MajorVersion": major, "attr/PVAddons/MinorVersion": minor,
            "attr/PVAddons/MicroVersion": 0}


def test():
    if not shutil.which("jq"):
        log("skip: jq is not installed (scripts/deps.sh installs it)")
        sys.exit(SKIP)
    sets = ["settle.quiet_ms=20", "metrics.reference_version=9.0",
            f"limits.max_keys_per_domain={MAX_KEYS}"]
    with Sandbox(sets) as sb:
        env = dict(sb.env, PATH=os.path.dirname(sb.xgmctl_path) + os.pathsep + os.environ["PATH"])

        def query(name, *args):
            done = subprocess.run(["bash", "-c", f'. "{QUERIES}" && {name} "$@"', name, *args],
                                  env=env, capture_output=True, text=True)
            check(done.returncode == 0 and not done.stderr,
                  f"{name} runs cleanly (exit {done.returncode}{', ' + done.stderr.strip() if done.stderr else ''})")
            return [line.split("\t") for line in done.stdout.splitlines()]

        def ids(rows):
            return [int(r[0]) for r in rows]

        for domid, name in ((APPLIANCE, "appliance"), (OLD, "old"), (CURRENT, "current"),
                            (SILENT, "silent"), (BARE, "bare"), (MANY, "many-disks")):
            sb.create(domid, name)
        # An appliance with old tools that can never be upgraded (the proposal).
        sb.guest_write(APPLIANCE, {**tools(6, 2), "attr/PVAddons/NotUpgradable": 1, "data/updated": 1})
        sb.guest_write(OLD, {**tools(6, 2), "attr/vif/0/ipv4/0": "192.0.2.2", "data/updated": 1})
        sb.guest_write(CURRENT, {**tools(9, 1), "data/meminfo_total": 1000000,
                                 "data/meminfo_free": 50000, "data/updated": 1})
        # SILENT runs no agent: it never writes.
        sb.guest_write(BARE, {"data/os_name": "Plan 9", "data/meminfo_total": 1000,
                              "data/meminfo_free": 900, "data/updated": 1})
        sb.guest_write(MANY, {f"data/volumes/{i}/name": f"disk{i}" for i in range(MAX_KEYS)})
        sb.wait_data(APPLIANCE, "not upgradable", pv_drivers_not_upgradable=True)
        sb.wait_data(OLD, "out of date", pv_drivers_detected=True, pv_drivers_up_to_date=False)
        sb.wait_data(CURRENT, "up to date", pv_drivers_up_to_date=True, memory__free_kib=50000)
        sb.wait_known(SILENT)
        sb.wait_data(BARE, "its memory", memory__free_kib=900)
        sb.wait_data(MANY, "its key limit", limit_reached=True)

        rows = query("xgm_out_of_date")
        check(rows == [[str(OLD), "old", "6.2.0"]], f"xgm_out_of_date: the old guest and its version: {rows}")
        rows = query("xgm_not_live")
        check(rows == [[str(SILENT), "silent", "never"]], f"xgm_not_live: the guest that never wrote: {rows}")
        rows = query("xgm_not_upgradable")
        check(rows == [[str(APPLIANCE), "appliance", "6.2.0"]],
              f"xgm_not_upgradable: the appliance, its old version shown: {rows}")
        rows = query("xgm_no_tools")
        check(ids(rows) == [SILENT, BARE, MANY], f"xgm_no_tools: {ids(rows)}")
        rows = query("xgm_low_memory")
        check(rows == [[str(CURRENT), "current", "50000", "1000000"]], f"xgm_low_memory (10 %): {rows}")
        rows = query("xgm_low_memory", "95")
        check(ids(rows) == [CURRENT, BARE], f"xgm_low_memory 95: {ids(rows)}")
        rows = query("xgm_ipv4")
        check(ids(rows) == [APPLIANCE, OLD, CURRENT, SILENT, BARE, MANY]
              and [r[2] for r in rows] == ["-", "192.0.2.2", "-", "-", "-", "-"],
              f"xgm_ipv4: the old guest's address, '-' for the others: {rows}")
        rows = query("xgm_limit_reached")
        check(ids(rows) == [MANY], f"xgm_limit_reached: {ids(rows)}")
        rows = query("xgm_domains")
        check(ids(rows) == [0, APPLIANCE, OLD, CURRENT, SILENT, BARE, MANY]
              and rows[0][1:3] == ["Domain-0", "-"] and rows[2][2] == "00000000-0000-4000-8000-000000000002",
              f"xgm_domains: dom0 and every guest, with names and uuids: {rows[:3]}...")
        health = query("xgm_health")
        figures = json.loads(health[0][0]) if len(health) == 1 else {}
        # Earlier queries' connections may not all be reaped yet: clients is at least this one.
        check(figures.pop("clients", 0) >= 1 and figures == {
            "events_dropped": 0, "lost_notices": 0, "domains": 7, "xenstore_connected": True},
            f"xgm_health: {health}")

        # The live one: a change of tools status, as it happens.
        watch = Lines(["bash", "-c", f'. "{QUERIES}" && xgm_watch_tools --count 1'], env=env)
        try:
            wait_for(lambda: sb.stats()["subscribers"] == 1, "xgm_watch_tools to subscribe")
            sb.guest_write(OLD, {"attr/PVAddons/NotUpgradable": 1, "data/updated": 2})
            line = watch.next("xgm_watch_tools's line")
            check(line == f"{OLD}\told\tup to date", f"xgm_watch_tools prints the change: {line!r}")
            check(watch.wait() == 0, "... and ends with xgmctl's --count")
        finally:
            watch.stop()


run(test)
