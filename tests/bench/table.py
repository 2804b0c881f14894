#!/usr/bin/python3
"""Renders xgm-bench --json files as the Markdown tables of docs/benchmarks.md.

usage: table.py RUN.json [RUN.json ...]
       table.py --compare C.json OCAML.json    the two xenstoreds side by side
"""
import json
import sys


def f(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def phases_table(run):
    w = run["workload"]
    out = [f"**{w['domains']} domains × {w['keys_per_domain']} keys**; "
           f"one dom0 read costs xenstored {w['dom0_read_xenstored_cpu_us']:.0f} µs of CPU "
           f"({w['dom0_read_us']:.0f} µs round trip).", "",
           "| subject | phase | subs | writes/s | CPU ms per 1k writes | xenstored ms per 1k | "
           "ratio | × floor | requests per write | reads per write | events per sub | "
           "lost | latency p50 ms | p99 ms |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for s in run["subjects"]:
        for p in s["phases"]:
            lat = p["latency_ms"]
            out.append(
                f"| {s['name']} | {p['phase']} | {p['subscribers']} | "
                f"{p['writes_per_second']:.0f} | {p['cpu_ms_per_1k_writes']:.1f} | "
                f"{p['xenstored_cpu_ms_per_1k_writes']:.1f} | {p['cpu_ratio_to_xenstored']:.2f} | "
                f"{f(p.get('cpu_ratio_to_floor'))} | "
                f"{p['requests_per_write']:.2f} | {p['reads_per_write']:.2f} | "
                f"{p['events_per_subscriber']} | {p['lost_notices']} | {f(lat['p50'])} | "
                f"{f(lat['p99'])} |")
    return out


def start_table(run):
    out = ["| subject | settling | adopt at start, s | its CPU, s | xenstored CPU, s | "
           "resync after restart, s | resident after start, KiB | at the end | peak |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for s in run["subjects"]:
        out.append(
            f"| {s['name']} | {s['settle']} | {s['start_resync_seconds']:.2f} | "
            f"{s['start_cpu_seconds']:.2f} | {s['start_xenstored_cpu_seconds']:.2f} | "
            f"{f(s.get('restart_resync_seconds'))} | {s['start_rss_kib']} | {s['end_rss_kib']} | "
            f"{s['peak_rss_kib']} |")
    return out


WINDOWS = [("adopt", "adopting every domain at start"),
           ("release", "a burst of releases"),
           ("introduce", "the released domains created again"),
           ("resync", "resync after a xenstored restart")]


def ping(pm):
    """p50 / p99 / max of a ping_ms map, and the unanswered."""
    if not pm:
        return "— | — | — | —"
    return f"{pm['p50']:.2f} | {pm['p99']:.2f} | {pm['max']:.2f} | {pm['unanswered']}"


def busy_table(run):
    """xgmd's ping round trips while its loop has more than guest writes to do."""
    out = ["| subject | while | domains | took, s | ping p50 ms | p99 ms | max ms | unanswered |",
           "|---|---|--:|--:|--:|--:|--:|--:|"]
    for s in run["subjects"]:
        if s.get("kind") != "xgmd":
            continue
        for key, what in WINDOWS:
            w = s.get("windows", {}).get(key)
            if w:
                out.append(f"| {s['name']} | {what} | {w['domains']} | {w['seconds']:.2f} | "
                           f"{ping(w.get('ping_ms'))} |")
        for p in s["phases"]:
            if "ping_ms" in p:
                out.append(f"| {s['name']} | the {p['phase']}, {p['writes']} writes | "
                           f"{run['workload']['domains']} | {p['seconds']:.2f} | "
                           f"{ping(p['ping_ms'])} |")
    return out


def storm_table(run):
    """What the storm did to the guests' writes, and the events each subject left unread."""
    out = ["| subject | writes/s | guest write p50 ms | p99 ms | max ms | "
           "unread watch events, mean | peak | events per write |",
           "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for s in run["subjects"]:
        for p in s["phases"]:
            if p["phase"] != "storm":
                continue
            gw, un = p["guest_write_ms"], p.get("unread_watch_events")
            out.append(f"| {s['name']} | {p['writes_per_second']:.0f} | {gw['p50']:.3f} | "
                       f"{gw['p99']:.3f} | {gw['max']:.3f} | "
                       f"{f(un['mean'], 0) if un else '—'} | {un['peak'] if un else '—'} | "
                       f"{p['xenstore_requests']['watch_events'] / p['writes']:.2f} |")
    return out


def daemon(run):
    return {"c": "C", "ocaml": "oxenstored"}.get(run["workload"].get("xenstored", "c"))


def compare_table(a, b):
    """One row per subject and phase: each figure for run a, then run b."""
    na, nb = daemon(a), daemon(b)
    wa, wb = a["workload"], b["workload"]
    out = [f"**{wa['domains']} domains**; one dom0 read costs {na} "
           f"{wa['dom0_read_xenstored_cpu_us']:.0f} µs of CPU and {nb} "
           f"{wb['dom0_read_xenstored_cpu_us']:.0f} µs.", "",
           f"| subject | phase | subs | CPU ms per 1k writes, {na} / {nb} | "
           f"daemon's ms per 1k | ratio | × floor | requests per write | latency p50 ms | p99 ms |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    phases_b = {(s["name"], p["phase"], p["subscribers"]): p
                for s in b["subjects"] for p in s["phases"]}

    def pair(x, y, digits):
        return f"{f(x, digits)} / {f(y, digits)}"
    for s in a["subjects"]:
        for p in s["phases"]:
            q = phases_b.get((s["name"], p["phase"], p["subscribers"]))
            if q is None:
                continue
            out.append(
                f"| {s['name']} | {p['phase']} | {p['subscribers']} | "
                f"{pair(p['cpu_ms_per_1k_writes'], q['cpu_ms_per_1k_writes'], 1)} | "
                f"{pair(p['xenstored_cpu_ms_per_1k_writes'], q['xenstored_cpu_ms_per_1k_writes'], 1)} | "
                f"{pair(p['cpu_ratio_to_xenstored'], q['cpu_ratio_to_xenstored'], 2)} | "
                f"{pair(p.get('cpu_ratio_to_floor'), q.get('cpu_ratio_to_floor'), 2)} | "
                f"{pair(p['requests_per_write'], q['requests_per_write'], 2)} | "
                f"{pair(p['latency_ms']['p50'], q['latency_ms']['p50'], 2)} | "
                f"{pair(p['latency_ms']['p99'], q['latency_ms']['p99'], 2)} |")
    subjects_b = {s["name"]: s for s in b["subjects"]}
    out += ["", f"| subject | adopt at start, s, {na} / {nb} | daemon's CPU meanwhile, s | "
            "resync after restart, s | peak resident, KiB |", "|---|--:|--:|--:|--:|"]
    for s in a["subjects"]:
        t = subjects_b.get(s["name"])
        if t is None:
            continue
        out.append(
            f"| {s['name']} | {pair(s['start_resync_seconds'], t['start_resync_seconds'], 2)} | "
            f"{pair(s['start_xenstored_cpu_seconds'], t['start_xenstored_cpu_seconds'], 2)} | "
            f"{pair(s.get('restart_resync_seconds'), t.get('restart_resync_seconds'), 2)} | "
            f"{s['peak_rss_kib']} / {t['peak_rss_kib']} |")
    out += ["", f"| subject | while | took, s, {na} / {nb} | ping p50 ms | p99 ms | max ms |",
            "|---|---|--:|--:|--:|--:|"]
    for s in a["subjects"]:
        t = subjects_b.get(s["name"])
        if s.get("kind") != "xgmd" or t is None:
            continue
        rows = [(what, s.get("windows", {}).get(key), t.get("windows", {}).get(key))
                for key, what in WINDOWS]
        rows += [(f"the {p['phase']}", p, q) for p in s["phases"] if "ping_ms" in p
                 for q in [phases_b.get((s["name"], p["phase"], p["subscribers"]))] if q]
        for what, x, y in rows:
            if not x or not y or "ping_ms" not in x or "ping_ms" not in y:
                continue
            px, py = x["ping_ms"], y["ping_ms"]
            out.append(f"| {s['name']} | {what} | {pair(x['seconds'], y['seconds'], 2)} | "
                       f"{pair(px['p50'], py['p50'], 2)} | {pair(px['p99'], py['p99'], 2)} | "
                       f"{pair(px['max'], py['max'], 2)} |")
    return out


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        runs = [json.load(open(path)) for path in sys.argv[2:]]
        print("\n".join(compare_table(*runs)))
        return
    for path in sys.argv[1:]:
        run = json.load(open(path))
        m = run["machine"]
        load = (f"; load average {m['loadavg_at_start']:.1f} at the start, "
                f"{m['loadavg_at_end']:.1f} at the end" if "loadavg_at_start" in m else "")
        print(f"From `{path}`, on {daemon(run)} "
              f"({m['cpus']} × {m['cpu']}, Linux {m['kernel']}{load}):\n")
        print("\n".join(phases_table(run)))
        print()
        print("\n".join(start_table(run)))
        print()
        print("\n".join(busy_table(run)))
        print()
        print("\n".join(storm_table(run)))
        print()


if __name__ == "__main__":
    main()
