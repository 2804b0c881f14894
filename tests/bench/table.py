#!/usr/bin/python3
"""Renders xgm-bench --json files as the Markdown tables of docs/benchmarks.md.

usage: table.py RUN.json [RUN.json ...]
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
           "ratio | requests per write | reads per write | events per sub | "
           "lost | latency p50 ms | p99 ms |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for s in run["subjects"]:
        for p in s["phases"]:
            lat = p["latency_ms"]
            out.append(
                f"| {s['name']} | {p['phase']} | {p['subscribers']} | "
                f"{p['writes_per_second']:.0f} | {p['cpu_ms_per_1k_writes']:.1f} | "
                f"{p['xenstored_cpu_ms_per_1k_writes']:.1f} | {p['cpu_ratio_to_xenstored']:.2f} | "
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


def main():
    for path in sys.argv[1:]:
        run = json.load(open(path))
        m = run["machine"]
        print(f"From `{path}` ({m['cpus']} × {m['cpu']}, Linux {m['kernel']}):\n")
        print("\n".join(phases_table(run)))
        print()
        print("\n".join(start_table(run)))
        print()


if __name__ == "__main__":
    main()
