"""
What the example tests share: a private xenstore sandbox (Debian's real
xenstored through xen-sandbox, subprojects/xen-sandbox, the daemon of
$XEN_SANDBOX_FLAVOUR), a real xgmd on its own socket in it, guests that
write over their own rings (xenstore-write through the sandbox's guest
socket), and xgmctl to read facts from xgmd. Waits poll a fact with a
bound that only stops a hung test.

The build paths come from the environment, set by tests/examples/meson.build:
XGM_SANDBOX_TOOL, XGMD, XGMCTL.
"""
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
WAIT_S = 30


def log(text):
    print(text, flush=True)


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)
    log(f"ok - {what}")


def wait_for(predicate, what, timeout=WAIT_S):
    """Polls predicate() until it returns something true, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Sandbox:
    """A sandbox with one xgmd; use it as a context manager."""

    def __init__(self, sets=()):
        self.tool = os.environ["XGM_SANDBOX_TOOL"]
        self.xgmd_path = os.environ["XGMD"]
        self.xgmctl_path = os.environ["XGMCTL"]
        self.sets = list(sets)
        self.dir = None
        self.xgmd = None
        self._guest_env = {}

    def __enter__(self):
        # A meson timeout is a SIGTERM: clean up on it as on any failure.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        self.dir = tempfile.mkdtemp(prefix="xgm-ex-", dir="/tmp")
        self.socket = os.path.join(self.dir, "xgmd.sock")
        self.env = dict(os.environ, XENSTORED_PATH=os.path.join(self.dir, "socket"),
                        XGM_SOCKET=self.socket)
        started = subprocess.run([self.tool, "-d", self.dir, "start"], capture_output=True, text=True)
        if started.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            if "xen-utils-4.17" in started.stderr:
                log(f"skip: {started.stderr.strip()}")
                sys.exit(SKIP)
            raise Failure(f"xen-sandbox start: {started.stderr.strip()}")
        self.start_xgmd()
        return self

    def __exit__(self, *exc):
        try:
            if self.xgmd:
                self.stop_xgmd()
        finally:
            subprocess.run([self.tool, "-d", self.dir, "stop"], capture_output=True)
            shutil.rmtree(self.dir, ignore_errors=True)

    def start_xgmd(self):
        argv = [self.xgmd_path, "--foreground", "--socket", self.socket, "--log-level", "debug"]
        for s in self.sets:
            argv += ["--set", s]
        self.log_path = os.path.join(self.dir, "xgmd.log")
        with open(self.log_path, "a") as logfile:
            self.xgmd = subprocess.Popen(argv, env=self.env, stdout=logfile, stderr=logfile)

        def listening():
            if self.xgmd.poll() is not None:
                raise Failure(f"xgmd exited during start-up:\n{self.xgmd_log()}")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(self.socket)
                    return True
                except OSError:
                    return False
        wait_for(listening, "xgmd to listen", timeout=10)

    def stop_xgmd(self):
        """SIGTERM; a clean exit is 0 (sanitizers and crashes are not)."""
        xgmd, self.xgmd = self.xgmd, None
        xgmd.terminate()
        try:
            status = xgmd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            xgmd.kill()
            status = xgmd.wait()
        if status != 0:
            raise Failure(f"xgmd ended with status {status}:\n{self.xgmd_log()}")

    def xgmd_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-20000:]

    # --- the toolstack, the hypervisor and the guests ---

    def sandbox(self, *args):
        subprocess.run([self.tool, "-d", self.dir, *map(str, args)], check=True,
                       stdout=subprocess.DEVNULL)

    def create(self, domid, name):
        self.sandbox("create", domid, name)

    def destroy(self, domid):
        self._guest_env.pop(domid, None)
        self.sandbox("destroy", domid)

    def guest_write(self, domid, pairs):
        """Writes {path: value} as domain domid, over its ring, in one xenstore-write."""
        if domid not in self._guest_env:
            out = subprocess.run([self.tool, "-d", self.dir, "guest-socket", str(domid)],
                                 check=True, capture_output=True, text=True).stdout.strip()
            key, _, value = out.partition("=")
            self._guest_env[domid] = dict(os.environ, **{key: value})
        argv = ["xenstore-write"]
        for path, value in pairs.items():
            argv += [path, str(value)]
        subprocess.run(argv, env=self._guest_env[domid], check=True)

    # --- xgmd, through xgmctl ---

    def xgmctl(self, *args, check=True):
        done = subprocess.run([self.xgmctl_path, "--socket", self.socket, *map(str, args)],
                              capture_output=True, text=True)
        if check and done.returncode != 0:
            raise Failure(f"xgmctl {' '.join(map(str, args))}: exit {done.returncode}: {done.stderr}")
        return done

    def query(self, *args):
        return json.loads(self.xgmctl(*args).stdout)

    def get(self, domid):
        """The domain's reply to get, or None when xgmd does not know it."""
        done = self.xgmctl("get", domid, check=False)
        return json.loads(done.stdout) if done.returncode == 0 else None

    def stats(self):
        return self.query("stats")["server"]

    def wait_data(self, domid, what, **expected):
        """Waits until xgmd publishes data with these values (dotted keys: memory__free_kib)."""
        def matches():
            reply = self.get(domid)
            if not reply:
                return None
            for key, value in expected.items():
                v = reply["data"]
                for part in key.split("__"):
                    v = v.get(part) if isinstance(v, dict) else None
                if v != value:
                    return None
            return reply
        return wait_for(matches, f"domain {domid}: {what}")

    def wait_known(self, domid, known=True):
        return wait_for(lambda: (self.get(domid) is not None) == known,
                        f"domain {domid} to be {'known' if known else 'gone'}")


class Lines:
    """A child process whose stdout lines are read as they come, with a bounded wait."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next(self, what, timeout=WAIT_S):
        """The next line; None once the process closed its stdout."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise Failure(f"timed out after {timeout} s waiting for {what}") from None
        if line is not None:
            self.seen.append(line)
        return line

    def until(self, predicate, what, timeout=WAIT_S):
        """Reads lines until predicate(line) is true; returns that line."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next(what, max(0.0, deadline - time.monotonic()))
            if line is None:
                raise Failure(f"the output ended before {what}; stderr: {self.stderr()}")
            if predicate(line):
                return line

    def wait(self, timeout=WAIT_S):
        """The exit status, once stdout is drained."""
        while self.next("the end of the output", timeout) is not None:
            pass
        return self.proc.wait(timeout=timeout)

    def stderr(self):
        return self.proc.stderr.read() if self.proc.poll() is not None else "(still running)"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(test):
    """Runs test() and exits 0, or 1 with the reason on a failure."""
    try:
        test()
    except Failure as e:
        log(f"not ok - {e}")
        sys.exit(1)
    log("all ok")
