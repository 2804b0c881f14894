#!/usr/bin/env python3
"""
xgm_client.py: follow xgmd's guest metrics from Python, with the standard
library only (Python 3.7 or later).

It speaks the socket protocol of docs/protocol.md: reads the hello,
subscribes with a snapshot, and keeps a table of every domain xgmd knows,
in step with the events. When the server reports a `lost` (this client
read too slowly and events for it were dropped), the server itself sends a
fresh snapshot; the client rebuilds its table from that snapshot alone, so
a domain whose `domain.gone` was among the dropped events leaves the table
too. No event is applied twice, none is missed: a live event's seq is
above the last snapshot's, and above the event before it.

As a program:

    xgm_client.py [--socket PATH] [--domain N]... [--event NAME]... [--table]

(--event selects live events only: leave domain.gone out and a destroyed
domain stays in the table until the next snapshot) prints one line per
message (a summary of each domain after each snapshot), or with --table
the whole table as one JSON line after each snapshot and each live event,
with the count of events lost so far (each loss recovered by the snapshot
that follows it). Errors are one line on stderr; exit status as xgmctl's:
2 cannot connect, 3 the server answered an error, 4 protocol error,
connection lost, or the server shut down (`bye`).

As a module:

    with Connection("/run/xgm/xgmd.sock") as conn:
        follower = Follower(conn)
        for message in follower:
            print(follower.table.domains)
"""
import argparse
import json
import os
import socket
import sys

PROTOCOL = 1
DEFAULT_SOCKET = "/run/xgm/xgmd.sock"
SOCKET_ENV = "XGM_SOCKET"
# The longest line accepted from the server; an event is a few KiB.
MAX_LINE = 64 * 1024 * 1024
EVENTS = ("domain.new", "domain.metrics", "domain.gone", "domain.snapshot")


class XgmError(Exception):
    """Anything that ends a session; exit_status is xgmctl's code for it."""
    exit_status = 4


class ConnectError(XgmError):
    exit_status = 2


class ServerError(XgmError):
    """The server answered a command with an error."""
    exit_status = 3

    def __init__(self, message):
        error = message.get("error") or {}
        self.cls = error.get("class", "error")
        self.desc = error.get("desc", "(no description)")
        super().__init__(f"{self.cls}: {self.desc}")


class ProtocolError(XgmError):
    pass


class Closed(XgmError):
    """The server went away: a bye, or the end of the stream."""


class Connection:
    """One connection to xgmd: the hello is read on connecting."""

    def __init__(self, path=None, timeout=None):
        path = path or os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
        except OSError as e:
            self._sock.close()
            raise ConnectError(f"cannot connect to {path}: {e.strerror or e}") from None
        self._reader = self._sock.makefile("rb")
        self._next_id = 1
        hello = self.recv()
        if hello["type"] == "error":
            raise ConnectError(str(ServerError(hello)))  # TooManyClients
        if hello["type"] != "hello":
            raise ProtocolError(f"expected a hello, got {hello['type']!r}")
        if hello.get("protocol") != PROTOCOL:
            raise ProtocolError(f"the server speaks protocol {hello.get('protocol')!r}, "
                                f"this client {PROTOCOL}")
        self.hello = hello

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def settimeout(self, seconds):
        """How long recv() waits for a line (None: forever)."""
        self._sock.settimeout(seconds)

    def close(self):
        self._reader.close()
        self._sock.close()

    def send(self, cmd, **args):
        """Sends a command and returns its id."""
        ident = self._next_id
        self._next_id += 1
        line = json.dumps({"cmd": cmd, "id": ident, **args}, separators=(",", ":"))
        try:
            self._sock.sendall(line.encode() + b"\n")
        except OSError as e:
            raise Closed(f"cannot send to the server: {e.strerror or e}") from None
        return ident

    def recv(self):
        """The next message, a dict with a "type"; a bye or EOF raises Closed."""
        try:
            line = self._reader.readline(MAX_LINE + 1)
        except socket.timeout:
            raise ProtocolError("no answer from the server in time") from None
        except OSError as e:
            raise Closed(f"connection lost: {e.strerror or e}") from None
        if not line:
            raise Closed("the server closed the connection")
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise ProtocolError(f"the server sent a line longer than {MAX_LINE} bytes")
            raise Closed("the connection was lost in the middle of a line")
        try:
            message = json.loads(line)
        except ValueError as e:
            raise ProtocolError(f"the server sent invalid JSON: {e}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError("the server sent a message without a type")
        if message["type"] == "bye":
            raise Closed(f"the server is shutting down ({message.get('reason', 'bye')})")
        return message

    def call(self, cmd, **args):
        """Sends a command and returns its reply; an error raises ServerError."""
        ident = self.send(cmd, **args)
        while True:
            message = self.recv()
            if message["type"] in ("reply", "error") and message.get("id") == ident:
                if message["type"] == "error":
                    raise ServerError(message)
                return message
            # Anything else (events of an earlier subscription, a newer
            # server's notices) is not the answer.


class Table:
    """
    The domains as the server last described them: domid -> the event's
    "domain" ({id, name, uuid}) and "data" (the guest metrics), and the seq
    of that state. A snapshot replaces the table when it ends, so whatever
    it does not list is gone.
    """

    def __init__(self):
        self.domains = {}
        self.seq = 0
        self._incoming = None  # while a snapshot arrives: what it has listed so far

    @property
    def in_snapshot(self):
        return self._incoming is not None

    def expect_snapshot(self):
        self._incoming = {}

    def apply(self, message):
        """Applies one message from a subscription; returns True when the table changed."""
        kind = message["type"]
        if kind == "event":
            return self._apply_event(message)
        if kind == "snapshot-end":
            if self._incoming is None:
                raise ProtocolError("snapshot-end without a snapshot")
            self.domains, self._incoming = self._incoming, None
            self.seq = message["seq"]
            return True
        if kind == "lost":
            # The server follows a lost with a fresh snapshot by itself.
            self.expect_snapshot()
            return False
        if kind == "error":
            raise ServerError(message)
        return False  # a type this client does not know: ignored, as the protocol asks

    def _apply_event(self, event):
        domid, seq, name = event["domain"]["id"], event["seq"], event["event"]
        state = {"domain": event["domain"], "data": event.get("data"), "seq": seq}
        if name == "domain.snapshot":
            if self._incoming is None:
                raise ProtocolError("a snapshot event outside a snapshot")
            self._incoming[domid] = state
            return False
        if self._incoming is not None:
            raise ProtocolError(f"a live event (seq {seq}) inside a snapshot")
        if seq <= self.seq:
            raise ProtocolError(f"event seq {seq} is not after seq {self.seq}: "
                                "the server broke its ordering promise")
        self.seq = seq
        if name == "domain.gone":
            self.domains.pop(domid, None)
        elif name in ("domain.new", "domain.metrics"):
            self.domains[domid] = state
        return True


class Follower:
    """
    Subscribes on a connection and yields every message after the reply,
    each already applied to self.table.
    """

    def __init__(self, conn, domains=None, events=None):
        self.conn = conn
        self.table = Table()
        self.lost_events = 0
        filters = {}
        if domains is not None:
            filters["domains"] = list(domains)
        if events is not None:
            filters["events"] = list(events)
        args = {"snapshot": True}
        if filters:
            args["filter"] = filters
        self.table.expect_snapshot()
        conn.call("subscribe", **args)

    def __iter__(self):
        while True:
            message = self.conn.recv()
            if message["type"] == "lost":
                self.lost_events += message.get("count", 0)
            try:
                self.table.apply(message)
            except (KeyError, TypeError) as e:
                raise ProtocolError(f"the server sent a malformed {message['type']}: {e!r}") from None
            yield message


def tools_summary(data):
    """'8.4 up to date', '6.2 not upgradable', '6.2 out of date' or 'no tools'."""
    version = data.get("pv_drivers_version") or {}
    text = ".".join(version[k] for k in ("major", "minor", "micro") if k in version)
    if data.get("pv_drivers_not_upgradable"):
        return f"{text or '?'} not upgradable"
    if not data.get("pv_drivers_detected"):
        return "no tools"
    return f"{text} {'up to date' if data.get('pv_drivers_up_to_date') else 'out of date'}"


def domain_summary(state):
    domain, data = state["domain"], state["data"] or {}
    memory = data.get("memory") or {}
    free = f", {memory['free_kib']} KiB free" if "free_kib" in memory else ""
    agent = "agent live" if data.get("live") else "agent not live"
    return f"{domain['id']:>5} {domain.get('name') or '-':<20} {tools_summary(data)}, {agent}{free}"


def describe(message, table):
    """The lines printed for one message in the default output."""
    kind = message["type"]
    if kind == "snapshot-end":
        lines = [f"snapshot at seq {table.seq}: {len(table.domains)} domains"]
        lines += [domain_summary(table.domains[d]) for d in sorted(table.domains)]
        return lines
    if kind == "lost":
        return [f"lost {message.get('count')} events (seq {message.get('first_seq')}"
                f"-{message.get('last_seq')}); the server sends a new snapshot"]
    if kind == "event" and message["event"] in ("domain.new", "domain.metrics", "domain.gone"):
        domid, name = message["domain"]["id"], message["event"].split(".", 1)[1]
        head = f"seq {message['seq']}: {name}"
        if name == "gone":
            return [f"{head} {domid}"]
        changed = message.get("changed")
        detail = f" ({', '.join(changed)})" if changed else ""
        return [f"{head}{detail}: {domain_summary(table.domains[domid])}"]
    return []


def table_json(follower):
    table = follower.table
    return json.dumps({"seq": table.seq, "lost": follower.lost_events,
                       "domains": {str(d): s for d, s in sorted(table.domains.items())}},
                      separators=(",", ":"))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Follow xgmd's guest metrics.")
    parser.add_argument("--socket", help=f"xgmd's socket (default: ${SOCKET_ENV}, else {DEFAULT_SOCKET})")
    parser.add_argument("--domain", type=int, action="append", help="only this domid (repeatable)")
    parser.add_argument("--event", choices=EVENTS, action="append", help="only these live events (repeatable)")
    parser.add_argument("--table", action="store_true",
                        help="print the whole table as one JSON line after each change")
    args = parser.parse_args(argv)
    try:
        with Connection(args.socket, timeout=10) as conn:
            hello = conn.hello
            # The answer comes within the timeout; events may be hours apart.
            follower = Follower(conn, args.domain, args.event)
            conn.settimeout(None)
            if not args.table:
                print(f"connected to {hello['server']['name']} {hello['server']['version']}, "
                      f"instance {hello['instance']}", flush=True)
            for message in follower:
                if args.table:
                    changed = message["type"] == "snapshot-end" or (
                        message["type"] == "event" and message["event"] != "domain.snapshot")
                    lines = [table_json(follower)] if changed else []
                else:
                    lines = describe(message, follower.table)
                for line in lines:
                    print(line, flush=True)
    except XgmError as e:
        print(f"xgm_client: {e}", file=sys.stderr)
        return e.exit_status
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
