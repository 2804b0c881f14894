#!/usr/bin/env python3
"""
examples/python/xgm_client.py against the real xgmd and the sandbox's real
xenstored: its table follows guest writes; stopped (SIGSTOP) while a guest
storms, it loses events, and meanwhile a domain goes and another comes, so
the only way it can know is the snapshot the server sends after `lost`;
once resumed its table equals xgmd's again and live events go on. Then
its plain output, its errors, and xgmd's shutdown (bye, exit 4).

xgmd's client_output_cap is at its minimum (4 KiB) and each event of the
storming guest carries ~29 KiB of disks, so a few events fill the kernel's
socket buffer and the cap; the test goes on once xgmd's events_dropped
counter has moved, not after a delay.
"""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xgmtest import Failure, Lines, Sandbox, check, log, run, wait_for  # noqa: E402

CLIENT = os.environ["XGM_PYTHON_CLIENT"]
PYTHON = sys.executable
STORM, DOOMED, NEWCOMER = 11, 12, 13
FINAL_FREE = 4242
# Disks of 1800 bytes each: below both xenstoreds' 2 KiB value quota.
DISKS = {f"data/volumes/{i}/name": f"disk{i}-" + "x" * 1790 for i in range(16)}


def tables(client, what, predicate):
    """Reads the client's --table lines until one satisfies predicate; returns it parsed."""
    line = client.until(lambda l: predicate(json.loads(l)), what)
    return json.loads(line)


def free_kib(table, domid):
    state = table["domains"].get(str(domid))
    return state and state["data"]["memory"].get("free_kib")


def same_as_xgmd(sb, table):
    """The client's table against xgmd's own answers, domain by domain."""
    listed = {d["id"] for d in sb.query("list")["domains"]}
    check(set(map(int, table["domains"])) == listed,
          f"the client's domains {sorted(map(int, table['domains']))} are xgmd's {sorted(listed)}")
    for domid, state in table["domains"].items():
        check(state["data"] == sb.get(int(domid))["data"], f"domain {domid}'s data is xgmd's")


def test():
    sets = ["settle.quiet_ms=20", "limits.client_output_cap=4096",
            # The publication limit would merge the storm's batches (test-storm tests it).
            "limits.publish_burst=1000", "limits.publish_rate=1000"]
    with Sandbox(sets) as sb:
        sb.create(STORM, "storm")
        sb.create(DOOMED, "doomed")
        sb.guest_write(STORM, {**DISKS, "attr/PVAddons/MajorVersion": 8, "attr/PVAddons/MinorVersion": 4,
                               "data/meminfo_total": 1000000, "data/meminfo_free": 500000,
                               "data/updated": 1})
        sb.guest_write(DOOMED, {"data/os_name": "Debian", "data/meminfo_free": 100, "data/updated": 1})
        sb.wait_data(STORM, "its disks and memory", memory__free_kib=500000)
        sb.wait_data(DOOMED, "its memory", memory__free_kib=100)

        client = Lines([PYTHON, CLIENT, "--socket", sb.socket, "--table"])
        try:
            first = tables(client, "the first snapshot", lambda t: True)
            check(set(first["domains"]) == {"0", str(STORM), str(DOOMED)},
                  "the snapshot lists dom0 and both guests")
            check(free_kib(first, STORM) == 500000 and len(first["domains"][str(STORM)]["data"]["disks"]) == 16,
                  "... with the storming guest's memory and 16 disks")
            sb.guest_write(DOOMED, {"data/meminfo_free": 777, "data/updated": 2})
            live = tables(client, "the live change", lambda t: free_kib(t, DOOMED) != 100)
            check(free_kib(live, DOOMED) == 777 and live["seq"] > first["seq"],
                  "a guest write reaches the client's table as a live event")

            # It stops reading; the guest storms until xgmd drops events for it.
            os.kill(client.proc.pid, signal.SIGSTOP)
            base = sb.stats()
            writes = [0]

            def dropping():
                writes[0] += 1
                sb.guest_write(STORM, {"data/meminfo_free": 100000 + writes[0], "data/updated": writes[0]})
                return sb.stats()["events_dropped"] > base["events_dropped"]
            wait_for(dropping, "xgmd to drop events for the stopped client")
            log(f"# {writes[0]} storm writes until xgmd dropped an event")

            # What it can only learn from the snapshot after `lost`.
            storm_end = sb.stats()
            # Each step is published before the next: four events, none merged.
            sb.destroy(DOOMED)
            sb.wait_known(DOOMED, known=False)
            sb.create(NEWCOMER, "newcomer")
            sb.wait_known(NEWCOMER)
            sb.guest_write(NEWCOMER, {"data/os_name": "Alpine", "data/meminfo_free": 31337, "data/updated": 1})
            sb.wait_data(NEWCOMER, "its memory", memory__free_kib=31337)
            sb.guest_write(STORM, {"data/meminfo_free": FINAL_FREE, "data/updated": "final"})
            sb.wait_data(STORM, "its final value", memory__free_kib=FINAL_FREE)
            stalled = sb.stats()
            check(stalled["events_dropped"] - storm_end["events_dropped"] >= 4,
                  "the gone, new and two metrics events meanwhile were dropped for it, not queued "
                  f"({stalled['events_dropped'] - storm_end['events_dropped']} more dropped)")
            check(stalled["lost_notices"] == base["lost_notices"], "no lost notice while it does not read")

            os.kill(client.proc.pid, signal.SIGCONT)
            table = tables(client, "the table after the new snapshot",
                           lambda t: t["lost"] > 0 and free_kib(t, STORM) == FINAL_FREE)
            recovered = sb.stats()
            check(recovered["lost_notices"] == base["lost_notices"] + 1, "xgmd sent it one lost notice")
            check(table["lost"] == stalled["events_dropped"] - base["events_dropped"],
                  f"it counts every dropped event as lost ({table['lost']})")
            check(str(DOOMED) not in table["domains"], "the domain destroyed meanwhile left its table")
            check(table["domains"].get(str(NEWCOMER), {}).get("domain", {}).get("name") == "newcomer",
                  "the domain created meanwhile is in it")
            same_as_xgmd(sb, table)

            sb.guest_write(NEWCOMER, {"data/meminfo_free": 1, "data/updated": 2})
            after = tables(client, "a live event after recovery", lambda t: free_kib(t, NEWCOMER) == 1)
            check(after["seq"] > table["seq"], "live events follow the snapshot, seq above it")

            # Plain output, from a second client.
            plain = Lines([PYTHON, CLIENT, "--socket", sb.socket])
            try:
                check(plain.next("its greeting").startswith("connected to xgmd"), "plain output greets")
                head = plain.until(lambda l: l.startswith("snapshot at seq"), "the snapshot line")
                check(head.endswith(": 3 domains"), f"the snapshot line counts the domains: {head}")
                rows = [plain.next("a domain row") for _ in range(3)]
                check(any("storm" in r and "8.4 up to date" in r and f"{FINAL_FREE} KiB free" in r
                          for r in rows), "a row says the storming guest's tools and memory")
                sb.guest_write(NEWCOMER, {"data/meminfo_free": 2, "data/updated": 3})
                line = plain.until(lambda l: "newcomer" in l, "the live event line")
                check(line.startswith("seq ") and "metrics (memory" in line and "2 KiB free" in line,
                      f"a live event is one line: {line}")

                # Errors: a domid the server refuses, a socket that is not there.
                bad = Lines([PYTHON, CLIENT, "--socket", sb.socket, "--domain", "40000"])
                check(bad.wait() == 3 and "InvalidArgument" in bad.stderr(),
                      "a refused subscription exits 3 with the server's error class")
                none = Lines([PYTHON, CLIENT, "--socket", os.path.join(sb.dir, "nothing.sock")])
                check(none.wait() == 2 and "cannot connect" in none.stderr(), "no socket exits 2, saying so")

                sb.stop_xgmd()
                for c, name in ((client, "--table"), (plain, "plain")):
                    status = c.wait()
                    check(status == 4 and "shutting down (shutdown)" in c.stderr(),
                          f"the {name} client reports xgmd's bye and exits 4")
            finally:
                plain.stop()
        except Failure:
            log(f"# client stderr: {client.stderr()}")
            raise
        finally:
            if client.proc.poll() is None:
                os.kill(client.proc.pid, signal.SIGCONT)
            client.stop()


run(test)
