#!/usr/bin/env python3
"""xgmd as systemd runs it, without systemd: Type=notify (READY=1, then
WATCHDOG=1 from the loop at half of $WATCHDOG_USEC), the socket given to
[daemon] socket_group with its mode, and the config file rules (a file named
with --config must exist; the installed one is optional).
    test-service.py XGMD
Every wait is on a fact (a datagram, a file); timeouts only stop a hang."""
import grp, os, socket, stat, subprocess, sys, tempfile

xgmd = sys.argv[1]
fails = 0


def check(what, ok, detail=""):
    global fails
    print(("ok - " if ok else "not ok - ") + what + ("" if ok else f" ({detail})"))
    fails += 0 if ok else 1


with tempfile.TemporaryDirectory(prefix="xgm-service-") as tmp:
    # An explicitly named file that does not exist is an error, on one line.
    r = subprocess.run([xgmd, "--check-config", "--config", f"{tmp}/nope.conf"],
                       capture_output=True, text=True)
    check("a missing --config file is an error", r.returncode == 2, r.returncode)
    check("... said on one line naming the file",
          r.stderr.count("\n") == 1 and "nope.conf" in r.stderr, r.stderr)
    # Without --config: the installed file when it exists, else the defaults.
    r = subprocess.run([xgmd, "--check-config"], capture_output=True, text=True)
    check("without --config it starts on the installed file or the defaults",
          r.returncode == 0 and r.stdout.startswith("configuration OK: "), r.stdout + r.stderr)

    # The notify socket systemd would listen on.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(f"{tmp}/notify")
    notify.settimeout(30)
    group = grp.getgrgid(1 if os.getgid() != 1 else 2)   # any group that is not ours
    sock = f"{tmp}/xgmd.sock"
    conf = f"{tmp}/xgmd.conf"
    with open(conf, "w") as f:
        f.write(f"[daemon]\nsocket = {sock}\nsocket_mode = 0660\nsocket_group = {group.gr_name}\n")
    env = dict(os.environ, NOTIFY_SOCKET=f"{tmp}/notify", WATCHDOG_USEC="200000",
               XENSTORED_PATH=f"{tmp}/no-xenstored")
    env.pop("WATCHDOG_PID", None)
    d = subprocess.Popen([xgmd, "--foreground", "--config", conf], env=env,
                         stderr=subprocess.PIPE, text=True)
    try:
        msgs = []
        while len([m for m in msgs if m == "WATCHDOG=1"]) < 3:
            msgs.append(notify.recv(4096).decode())
        check("READY=1 comes first", msgs[0] == "READY=1", msgs)
        check("then WATCHDOG=1 from the loop", msgs[1:4] == ["WATCHDOG=1"] * 3, msgs)
        st = os.stat(sock)
        check("the socket is mode 0660", stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode))
        check(f"the socket belongs to group {group.gr_name}", st.st_gid == group.gr_gid, st.st_gid)
    finally:
        d.terminate()
        err = d.communicate(timeout=30)[1]
    check("SIGTERM stops it cleanly", d.returncode == 0, err)

    # A group that does not exist stops the start, with the reason.
    r = subprocess.run([xgmd, "--foreground", "--config", conf,
                        "--set", "daemon.socket_group=xgm-no-such-group"],
                       capture_output=True, text=True, env=env, timeout=30)
    check("an unknown socket_group is an error", r.returncode != 0 and
          "xgm-no-such-group" in r.stderr, r.stderr)
    check("... and leaves no socket behind", not os.path.exists(sock))

print(f"{fails} failed")
sys.exit(1 if fails else 0)
