#!/usr/bin/env python3
"""`make demo`: starts the sample leaky service under Debian's python3, lets it leak for a few
seconds, prints pypeek's report on it, stops the service and exits with pypeek's exit code.

usage: demo.py --pypeek PATH [--seconds S] [--python PATH] [--disable-gc] [-- extra pypeek options]

With --disable-gc the service runs with the collector disabled, as latency-sensitive services
do: its cycles of objects with __del__ are never collected and the report shows them under
"Unreachable cycles awaiting collection".

The service logs one JSON line of its own counts per tick on a pipe; the demo waits for the
ticks (no blind sleep), so the wait ends early with a clear message if the service dies."""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = os.path.join(HERE, "targets", "leaky_service.py")
TICK = 0.1


class DemoError(Exception):
    pass


def wait_for_ticks(proc, ticks, timeout):
    """Reads the service's tick log from its stdout until `ticks` ticks were logged; returns
    the last line. Raises DemoError if the service exits or stays silent."""
    fd = proc.stdout.fileno()
    buf, last = b"", None
    deadline = time.monotonic() + timeout
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            last = json.loads(line)
            if last["tick"] >= ticks:
                return last
        left = deadline - time.monotonic()
        if left <= 0:
            raise DemoError("the service logged no tick %d within %.0f s" % (ticks, timeout))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise DemoError("the service exited (status %s) before tick %d"
                                % (proc.wait(), ticks))
            buf += chunk


def stop_service(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # it closes its files and removes its temp dir
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pypeek", required=True, help="path of the pypeek binary")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for the service (default: Debian's /usr/bin/python3)")
    ap.add_argument("--seconds", type=float, default=3.0, help="how long to leak (default 3)")
    ap.add_argument("--disable-gc", action="store_true",
                    help="run the service with gc.disable(): its __del__ cycles pile up")
    ap.add_argument("pypeek_args", nargs="*", help="extra pypeek options (after --)")
    a = ap.parse_args()
    if not os.access(a.pypeek, os.X_OK):
        print("demo: %s is not an executable; run `make build` first" % a.pypeek,
              file=sys.stderr)
        return 1
    if not os.path.exists(a.python):
        print("demo: %s is missing; run `make deps`" % a.python, file=sys.stderr)
        return 1
    ticks = max(1, int(round(a.seconds / TICK)))
    # Unbuffered pipe for the tick log; the banner goes straight to our stderr.
    service = [a.python, SERVICE, "--log", "-", "--tick", str(TICK)]
    if a.disable_gc:
        service.append("--disable-gc")
    proc = subprocess.Popen(service,
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        print("demo: letting leaky_service (pid %d) leak for %.1f s..." % (proc.pid, a.seconds),
              file=sys.stderr, flush=True)
        own = wait_for_ticks(proc, ticks, timeout=a.seconds * 5 + 30)
        print("demo: the service's own counts at tick %d: %d LargeObject in _cache, %d open "
              "files, %d cycles with __del__, %d closures"
              % (own["tick"], own["large_objects"], own["open_files"], own["cycles"],
                 own["closures"]), file=sys.stderr, flush=True)
        cmd = [a.pypeek, str(proc.pid)] + a.pypeek_args
        print("demo: $ %s" % " ".join(cmd), file=sys.stderr, flush=True)
        rc = subprocess.call(cmd)
        if rc != 0:
            print("demo: pypeek exited with status %d" % rc, file=sys.stderr)
        return rc
    except DemoError as e:
        print("demo: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo: interrupted; stopping the service", file=sys.stderr)
        return 130
    finally:
        stop_service(proc)


if __name__ == "__main__":
    sys.exit(main())
