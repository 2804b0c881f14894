#!/usr/bin/python3
"""The baseline a dom0 admin would write with Debian's python3-pyxs.

It watches the same subtrees of every domain as xgmd, reads what each
watch event names, and prints the domain's guest metrics as a JSON line,
with no settling. xgm-bench runs it on the same workload as xgmd. On
SIGUSR1 it prints its xenstore request counters in the shape of xgmd's
stats reply, so that both are counted the same way.
"""
import errno
import json
import signal
import sys

from pyxs import Client, PyXSError

SUBTREES = ["attr", "data", "control", "drivers", "feature", "xenserver/attr"]
counts = {"xenstore_reads": 0, "xenstore_directories": 0, "xenstore_watches": 0,
          "xenstore_watch_events": 0}
domains = {}   # domid -> {relative path: value}


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def on_usr1(signum, frame):
    emit({"type": "stats", "engine": counts})


def read(c, path):
    counts["xenstore_reads"] += 1
    try:
        return c.read(path.encode()).decode("utf-8", "replace")
    except PyXSError as e:
        if e.args[0] == errno.ENOENT:
            return None
        raise


def children(c, path):
    counts["xenstore_directories"] += 1
    try:
        return [n.decode() for n in c.list(path.encode())]
    except PyXSError as e:
        if e.args[0] == errno.ENOENT:
            return []
        raise


def walk(c, keys, home, rel):
    """Reads rel (relative to home) into keys: a leaf, or every leaf below it."""
    names = children(c, home + "/" + rel)
    if not names:
        value = read(c, home + "/" + rel)
        if value is not None:
            keys[rel] = value
        return
    for name in names:
        walk(c, keys, home, rel + "/" + name)


def drop(keys, rel):
    for k in [k for k in keys if k == rel or k.startswith(rel + "/")]:
        del keys[k]


def as_int(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return None


def metrics(keys):
    pv = {k.split("/")[-1]: v for k, v in keys.items() if k.startswith("attr/PVAddons/")}
    major, minor = as_int(pv.get("MajorVersion")), as_int(pv.get("MinorVersion"))
    networks = {}
    for k, v in keys.items():
        parts = k.split("/")
        if len(parts) == 6 and parts[:2] == ["attr", "vif"] and parts[5] == "addr":
            networks["/".join((parts[2], parts[3], parts[4]))] = v
        elif len(parts) == 5 and parts[:2] == ["attr", "vif"]:
            networks["/".join(parts[2:])] = v
    return {
        "os_version": {k[len("data/os_"):]: v for k, v in keys.items()
                       if k.startswith("data/os_")},
        "pv_drivers_version": {"major": major, "minor": minor,
                               "micro": as_int(pv.get("MicroVersion")),
                               "build": as_int(pv.get("BuildVersion"))},
        "pv_drivers_up_to_date": pv.get("NotUpgradable") == "1" or
                                 (major is not None and minor is not None),
        "networks": networks,
        "memory": {"total_kib": as_int(keys.get("data/meminfo_total")),
                   "free_kib": as_int(keys.get("data/meminfo_free"))},
        "other": {k[len("control/"):]: v for k, v in keys.items()
                  if k.startswith("control/") and k.count("/") == 1},
    }


def publish(domid):
    emit({"type": "event", "event": "domain.metrics", "domain": {"id": domid},
          "data": metrics(domains[domid])})


def adopt(c, m, domid):
    home = "/local/domain/%d" % domid
    keys = domains[domid] = {}
    for sub in SUBTREES:
        # One token per watch: pyxs queues an event once per subscription
        # of its token, so a token shared by six watches reads six times.
        m.watch((home + "/" + sub).encode(), ("%d/%s" % (domid, sub)).encode())
        counts["xenstore_watches"] += 1
        walk(c, keys, home, sub)


def changed(c, domid, path):
    home = "/local/domain/%d" % domid
    rel = path[len(home) + 1:]
    keys = domains.get(domid)
    if keys is None or not rel:
        return
    value = read(c, path)
    if value is None:
        drop(keys, rel)
    elif value == "" and children(c, path):
        drop(keys, rel)
        walk(c, keys, home, rel)
    else:
        keys[rel] = value
    publish(domid)


def main():
    signal.signal(signal.SIGUSR1, on_usr1)
    with Client() as c:
        m = c.monitor()
        for name in children(c, "/local/domain"):
            if name.isdigit() and int(name) != 0:
                adopt(c, m, int(name))
        # Its first event comes after the initial events of every watch
        # above: then the monitor is in step with xenstore.
        m.watch(b"@introduceDomain", b"introduce")
        counts["xenstore_watches"] += 1
        ready = False
        for path, token in m.wait():
            counts["xenstore_watch_events"] += 1
            if token != b"introduce":
                changed(c, int(token.split(b"/")[0]), path.decode())
            elif not ready:
                emit({"type": "ready", "domains": len(domains)})
                ready = True
            else:
                for name in children(c, "/local/domain"):
                    if name.isdigit() and int(name) not in domains and int(name) != 0:
                        adopt(c, m, int(name))


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
