#!/usr/bin/env python3
"""pypeek's performance benchmark (issue 8): run on purpose, not part of `make test`.

usage: integration/bench/bench.py --pypeek build/pypeek [--sizes idle64,1M,payload,10M]
                                  [--runs 5] [--rt] [--no-gdb] [--no-graph-row]
                                  [--markdown FILE]

Scenarios (--sizes): 100k, 1M, 10M: that many GC-tracked objects; idle64: a small heap and 64
threads parked in read(2) (an idle service); payload: the seed's leak, 1000 bytearrays of
1 MiB in a global list, plus 100k objects. For each it starts integration/bench/bench_target.py
under Debian's /usr/bin/python3 (a mix of instances, small lists, tuples and dicts, plus a
heartbeat thread that measures stalls from inside) and measures side by side, median of --runs
runs (--rt: pypeek runs under chrt -f 10):
  1. pypeek --json --no-graph (the census): the target's pause as pypeek reports it
     (attach.pause_us) and as the heartbeat saw it, wall time of the first run (cold) and of
     the later ones (warm), peak RSS (getrusage of the child), bytes read and read calls;
     the same for the default report with the object graph, and --nonblocking (pause, and
     whether its census equals the frozen one);
  2. the target's own census in-process: Counter(type(o) for o in gc.get_objects());
  3. the gdb way: gdb -batch EXE -p PID (the executable given, so that reading its DWARF is
     not counted as pause) calling PyGILState_Ensure, PyRun_SimpleString with the
     same census, PyGILState_Release: wall time and pause (heartbeat);
  4. the physical floor: copying as many bytes as pypeek copied while the target was stopped
     (attach.image_bytes; bytes_read when it walked streaming), from pages that hold data,
     into a fresh buffer prepared the way pypeek prepares its image (integration/bench/floor.c,
     compiled here);
  5. the census total: pypeek's objects.total against the target's own len(gc.get_objects()),
     asked right after the run (nothing in the target allocates meanwhile).
It prints one table with ratios, the issue's targets met or not, and the machine."""
import argparse
import json
import os
import platform
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
SCENARIOS = {  # name: (GC-tracked objects built, bench_target.py options)
    "100k": (100_000, []),
    "1M": (1_000_000, []),
    "10M": (10_000_000, []),
    "idle64": (0, ["threads=64"]),
    "payload": (100_000, ["payload=1000"]),
}
CENSUS = "import gc, collections; collections.Counter(type(o) for o in gc.get_objects())"


def median(v):
    return statistics.median(v) if v else None


class Target:
    """bench_target.py N: answers commands on stdin with one JSON line each."""

    def __init__(self, n, opts=()):
        self.p = subprocess.Popen([PYTHON, os.path.join(HERE, "bench_target.py"), str(n)]
                                  + list(opts),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  start_new_session=True)
        self.pid = self.p.pid
        self.info = self.read(timeout=600)

    def read(self, timeout=120):
        fd = self.p.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError("benchmark target %d did not answer" % self.pid)
            chunk = os.read(fd, 1)
            if not chunk:
                raise RuntimeError("benchmark target %d exited" % self.pid)
            buf += chunk
        return json.loads(buf)

    def ask(self, cmd, timeout=120):
        self.p.stdin.write((cmd + "\n").encode())
        self.p.stdin.flush()
        return self.read(timeout)

    def gap_us_during(self, fn, timeout=120):
        """Runs fn() and returns (its result, the heartbeat's largest gap meanwhile)."""
        self.ask("reset")
        res = fn()
        return res, self.ask("gap", timeout=timeout)["gap_us"]

    def stop(self):
        try:
            if self.p.poll() is None:
                self.ask("quit", timeout=10)
                self.p.wait(timeout=10)
        except Exception:
            pass
        if self.p.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.p.wait()


def run_child(argv, timeout=600, stderr_to_stdout=False, env=None):
    """Runs argv; returns (exit code, stdout, wall seconds, peak RSS KiB) from wait4."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env,
                         stderr=subprocess.STDOUT if stderr_to_stdout else subprocess.PIPE)
    out = []

    def drain():
        while True:
            b = p.stdout.read(1 << 16)
            if not b:
                break
            out.append(b)

    import threading
    th = threading.Thread(target=drain, daemon=True)
    th.start()
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.0005)
    wall = time.monotonic() - t0
    th.join(timeout=10)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.returncode != 0 and not stderr_to_stdout:
        sys.stderr.write("%s exited %d: %s\n" % (" ".join(argv[:3]), p.returncode, err[-500:]))
    return p.returncode, b"".join(out), wall, ru.ru_maxrss


def pypeek_runs(pypeek, t, runs, extra, rt=False):
    """runs+1 pypeek runs. The first is cold: an empty layout cache (XDG_CACHE_HOME), so it
    reads the interpreter's DWARF; the others find the layout it cached. Returns lists."""
    env = dict(os.environ, XDG_CACHE_HOME=tempfile.mkdtemp(prefix="pypeek-bench-cache-"))
    r = {"pause_us": [], "gap_us": [], "wall_ms": [], "self_wall_ms": [], "rss_kib": [],
         "bytes_read": [], "read_calls": [], "copied": [], "read": [], "retries": [],
         "cold_wall_ms": None, "census": None, "own_total": None}
    prefix = ["chrt", "-f", "10"] if rt else []
    for i in range(runs + 1):
        (rc, out, wall, rss), gap = t.gap_us_during(
            lambda: run_child(prefix + [pypeek, "--json"] + extra + [str(t.pid)], env=env))
        if rc != 0:
            raise RuntimeError("pypeek failed on the benchmark target")
        snap = json.loads(out)
        a = snap["attach"]
        if i == 0:
            r["cold_wall_ms"] = wall * 1e3
            r["census"] = {x["type"]: x["count"] for x in snap["objects"]["types"]}
            r["total"] = snap["objects"]["total"]
            r["own_total"] = t.ask("count")["objects"]  # the target's own count, right after
            own = t.ask("types")["types"]  # and by type: which objects make the difference
            mine = {}
            for x in snap["objects"]["types"]:
                name = x["type"].rsplit(".", 1)[-1]
                mine[name] = mine.get(name, 0) + x["count"]
            r["type_diff"] = {k: mine.get(k, 0) - own.get(k, 0) for k in set(mine) | set(own)
                              if mine.get(k, 0) != own.get(k, 0)}
            continue
        r["read"].append(a.get("read", "-"))
        r["copied"].append(a["image_bytes"] if a.get("read") == "image" else a["bytes_read"])
        r["retries"].append(a.get("retries", 0))
        r["pause_us"].append(a["pause_us"])
        r["gap_us"].append(gap)
        r["wall_ms"].append(wall * 1e3)
        r["self_wall_ms"].append(a["wall_us"] / 1e3)
        r["rss_kib"].append(rss)
        r["bytes_read"].append(a["bytes_read"])
        r["read_calls"].append(a["read_calls"])
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    return r


def gdb_runs(t, runs):
    """The gdb way. First gdb's attach alone (symbols loaded, threads stopped, no call): a
    lower bound of its pause that works everywhere; then the full call (PyGILState_Ensure,
    PyRun_SimpleString(census), PyGILState_Release), last, because a failed inferior call can
    leave the target deadlocked."""
    gdb = shutil.which("gdb")
    if not gdb:
        return {"error": "gdb is not installed"}
    res = {"attach_wall_ms": [], "attach_gap_us": [], "wall_ms": [], "gap_us": []}
    exe = os.readlink("/proc/%d/exe" % t.pid)
    base = [gdb, "-batch", "-nx", exe, "-p", str(t.pid)]  # symbols read before the attach
    for _ in range(runs):
        (rc, out, wall, rss), gap = t.gap_us_during(
            lambda: run_child(base + ["-ex", "info threads"], timeout=300))
        res["attach_wall_ms"].append(wall * 1e3)
        res["attach_gap_us"].append(gap)
    argv = base + ["-ex", "call (int)PyGILState_Ensure()",
                   "-ex", "call (int)PyRun_SimpleString(\"%s\")" % CENSUS,
                   "-ex", "call (void)PyGILState_Release($1)"]
    for _ in range(runs):
        try:
            (rc, out, wall, rss), gap = t.gap_us_during(
                lambda: run_child(argv, timeout=300, stderr_to_stdout=True), timeout=20)
        except RuntimeError as ex:  # the target no longer answers
            res["error"] = "the target stopped answering after gdb's call (%s)" % ex
            break
        if rc != 0 or b"$2 = 0" not in out:
            lines = [x for x in out.decode(errors="replace").splitlines()
                     if "Couldn't" in x or "error" in x.lower()]
            res["error"] = "gdb's inferior call failed: %s" % (
                lines[0].strip() if lines else out[-200:])
            break
        res["wall_ms"].append(wall * 1e3)
        res["gap_us"].append(gap)
    return res


def build_floor(tmp):
    exe = os.path.join(tmp, "floor")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, "floor.c")], check=True)
    return exe


def floor_runs(exe, t, nbytes, runs, rt=False):
    """The floor runs at pypeek's priority (--rt: chrt -f 10 for both)."""
    v = []
    prefix = ["chrt", "-f", "10"] if rt else []
    for _ in range(runs):
        out = subprocess.run(prefix + [exe, str(t.pid), str(nbytes)], capture_output=True,
                             check=True)
        v.append(json.loads(out.stdout)["floor_us"])
    return v


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.1f GiB" % (int(f.readline().split()[1]) / 1048576)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(), "mem": mem,
            "python": subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
                                     capture_output=True, text=True).stdout.strip()}


def fmt_ms(us):
    return "-" if us is None else ("%.1f ms" % (us / 1e3) if us < 1e7 else "%.1f s" % (us / 1e6))


def fmt_ratio(a, b):
    return "-" if a is None or not b else "%.2fx" % (a / b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pypeek", required=True)
    ap.add_argument("--sizes", default="idle64,1M,payload,10M",
                    help="scenarios: " + ",".join(SCENARIOS) + " or a number of objects")
    ap.add_argument("--rt", action="store_true", help="run pypeek under chrt -f 10")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-gdb", action="store_true")
    ap.add_argument("--no-graph-row", action="store_true",
                    help="skip the default report (with the object graph)")
    ap.add_argument("--markdown", help="also write the table (markdown) to this file")
    a = ap.parse_args()
    pypeek = os.path.abspath(a.pypeek)
    if not os.path.exists(PYTHON):
        sys.exit("%s is not installed" % PYTHON)
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    tmp = tempfile.mkdtemp(prefix="pypeek-bench-")
    floor_exe = build_floor(tmp)
    mach = machine()
    load_before = os.getloadavg()
    cols = {}
    for name in sizes:
        n, topts = SCENARIOS.get(name) or (int(name), [])
        sys.stderr.write("[%s] building the target...\n" % name)
        t = Target(n, topts)
        try:
            c = {"objects": t.info["objects"], "threads": t.info.get("threads"),
                 "load_start": os.getloadavg()[0]}
            # The target's own counts leave a trace on first use (caches of the code they
            # run): taken once now, so that every census below sees the same heap.
            t.ask("count")
            t.ask("types")
            # the heartbeat's own jitter with no tool running: the resolution of "pause seen"
            c["idle_gap_us"] = [t.gap_us_during(lambda: time.sleep(0.25))[1]
                                for _ in range(a.runs)]
            sys.stderr.write("[%s] %d tracked objects; pypeek census...\n" % (name, c["objects"]))
            c["pp"] = pypeek_runs(pypeek, t, a.runs, ["--no-graph"], a.rt)
            sys.stderr.write("[%s] --nonblocking...\n" % name)
            c["nb"] = pypeek_runs(pypeek, t, a.runs, ["--no-graph", "--nonblocking"], a.rt)
            if not a.no_graph_row:
                sys.stderr.write("[%s] default report (object graph)...\n" % name)
                c["graph"] = pypeek_runs(pypeek, t, a.runs, [], a.rt)
            sys.stderr.write("[%s] in-process census...\n" % name)
            c["inproc_us"] = [t.ask("census", timeout=600)["census_us"] for _ in range(a.runs)]
            sys.stderr.write("[%s] physical floor...\n" % name)
            c["floor_us"] = floor_runs(floor_exe, t, int(median(c["pp"]["copied"])), a.runs,
                                       a.rt)
            if c.get("graph"):
                c["graph_floor_us"] = floor_runs(floor_exe, t, int(median(c["graph"]["copied"])),
                                                 a.runs, a.rt)
            if not a.no_gdb:
                sys.stderr.write("[%s] gdb...\n" % name)
                c["gdb"] = gdb_runs(t, a.runs)
        finally:
            t.stop()
        c["load_end"] = os.getloadavg()[0]
        cols[name] = c
    load_after = os.getloadavg()
    shutil.rmtree(tmp, ignore_errors=True)
    table = render(cols, sizes, mach, load_before, load_after, a)
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table + "\n")


def render(cols, sizes, mach, load_before, load_after, a):
    rows = []

    def row(label, fn):
        vals = []
        for s in sizes:
            try:
                vals.append(fn(cols[s]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("-")
        rows.append((label, vals))

    med = lambda c, k, f: median(c[k][f]) if c.get(k) else None  # noqa: E731
    mode = lambda c, k: "/".join(sorted(set(c[k]["read"])))  # noqa: E731
    row("GC-tracked objects / threads", lambda c: "{:,} / {}".format(c["objects"], c["threads"]))
    row("load average (1 min) at start - end of the column", lambda c: "%.1f - %.1f" % (
        c["load_start"], c["load_end"]))
    row("heartbeat's largest gap, no tool running (250 ms)",
        lambda c: fmt_ms(median(c["idle_gap_us"])))
    row("**pypeek census** pause (attach.pause_us)", lambda c: fmt_ms(med(c, "pp", "pause_us")))
    row("pypeek pause, min - max of the runs", lambda c: "%.0f - %.0f ms" % (
        min(c["pp"]["pause_us"]) / 1e3, max(c["pp"]["pause_us"]) / 1e3))
    row("**pypeek pause seen by the target (heartbeat)**",
        lambda c: fmt_ms(med(c, "pp", "gap_us")))
    row("how pypeek read (attach.read)", lambda c: mode(c, "pp"))
    row("copied while stopped / read calls", lambda c: "%.1f MB / %d" % (
        med(c, "pp", "copied") / 1e6, med(c, "pp", "read_calls")))
    row("pypeek wall, cold (empty layout cache: DWARF read)",
        lambda c: fmt_ms(c["pp"]["cold_wall_ms"] * 1e3))
    row("pypeek wall, warm (layout cached)", lambda c: fmt_ms(med(c, "pp", "wall_ms") * 1e3))
    row("pypeek peak RSS", lambda c: "%.0f MiB" % (med(c, "pp", "rss_kib") / 1024))
    row("floor (copy those bytes, buffer prepared as pypeek's)",
        lambda c: fmt_ms(median(c["floor_us"])))
    row("pause / floor", lambda c: fmt_ratio(med(c, "pp", "pause_us"), median(c["floor_us"])))
    row("target's own census in-process", lambda c: fmt_ms(median(c["inproc_us"])))
    row("pause / in-process census",
        lambda c: fmt_ratio(med(c, "pp", "pause_us"), median(c["inproc_us"])))
    row("census total: pypeek / target's len(gc.get_objects())", lambda c: "{:,} / {:,}".format(
        c["pp"]["total"], c["pp"]["own_total"]))
    row("gdb EXE -p PID -batch, attach only: wall", lambda c: fmt_ms(
        med(c, "gdb", "attach_wall_ms") * 1e3))
    row("gdb attach only: pause seen by the target", lambda c: fmt_ms(
        med(c, "gdb", "attach_gap_us")))
    row("gdb + PyRun_SimpleString(census): wall", lambda c: fmt_ms(
        med(c, "gdb", "wall_ms") * 1e3) if c["gdb"]["wall_ms"] else "failed")
    row("gdb + census: pause seen by the target", lambda c: fmt_ms(
        med(c, "gdb", "gap_us")) if c["gdb"]["gap_us"] else "failed")
    # Where the call fails, gdb's pause is at least its attach plus the census it would run
    # with the GIL held (the target's own in-process time): a lower bound, marked ">=".
    row("gdb pause / pypeek pause", lambda c: fmt_ratio(
        med(c, "gdb", "gap_us"), med(c, "pp", "gap_us")) if c["gdb"]["gap_us"] else
        ">=" + fmt_ratio(med(c, "gdb", "attach_gap_us") + median(c["inproc_us"]),
                         med(c, "pp", "gap_us")))
    row("--nonblocking: pause seen by the target", lambda c: fmt_ms(med(c, "nb", "gap_us")))
    row("--nonblocking: wall, warm", lambda c: fmt_ms(med(c, "nb", "wall_ms") * 1e3))
    row("--nonblocking census equals frozen", lambda c: "yes" if
        c["nb"]["census"] == c["pp"]["census"] and c["nb"]["total"] == c["pp"]["total"]
        else "NO")
    if not a.no_graph_row:
        row("**default report** (object graph): pause", lambda c: fmt_ms(
            med(c, "graph", "pause_us")))
        row("default report: pause seen by the target (heartbeat)", lambda c: fmt_ms(
            med(c, "graph", "gap_us")))
        row("default report: how read / copied", lambda c: "%s / %.1f MB" % (
            mode(c, "graph"), med(c, "graph", "copied") / 1e6))
        row("default report: floor (copy those bytes)", lambda c: fmt_ms(
            median(c["graph_floor_us"])))
        row("default report: wall, warm", lambda c: fmt_ms(med(c, "graph", "wall_ms") * 1e3))
        row("default report: peak RSS", lambda c: "%.0f MiB" % (
            med(c, "graph", "rss_kib") / 1024))
        row("default report: runs read again (attach.retries)", lambda c: "%d of %d" % (
            sum(1 for x in c["graph"]["retries"] if x), len(c["graph"]["retries"])))
    width = max(len(r[0]) for r in rows)
    out = []
    out.append("| %s | %s |" % ("".ljust(width), " | ".join(s.rjust(12) for s in sizes)))
    out.append("|-%s-|%s|" % ("-" * width, "|".join("-" * 14 for _ in sizes)))
    for label, vals in rows:
        out.append("| %s | %s |" % (label.ljust(width), " | ".join(v.rjust(12) for v in vals)))
    out.append("")
    out.append("Medians of %d runs (warm = runs 2..%d, layout cache filled by run 1; cold = "
               "run 1 with an empty XDG_CACHE_HOME; OS page cache warm)." % (a.runs, a.runs + 1))
    out.append("Machine: %d CPUs, %s, kernel %s, %s RAM; targets: /usr/bin/python3 %s; "
               "load average %.2f before, %.2f after (machine shared with other jobs)." % (
                   mach["nproc"], mach["cpu"], mach["kernel"], mach["mem"], mach["python"],
                   load_before[0], load_after[0]))
    out.append("Command: integration/bench/bench.py --pypeek PYPEEK --sizes %s --runs %d%s%s" % (
        ",".join(sizes), a.runs, " --no-gdb" if a.no_gdb else "", " --rt" if a.rt else ""))
    errs = sorted({c["gdb"]["error"] for c in cols.values() if c.get("gdb", {}).get("error")})
    for e in errs:
        out.append("gdb: %s" % e)
    out.append("")
    out.extend(targets(cols))
    return "\n".join(out)


def targets(cols):
    """The issue's targets (issue 14), met or not, with the numbers and by how much."""
    out = ["Targets (issue 14; medians, pypeek's pause and the heartbeat's alike):"]

    def check(label, value, limit, unit_fmt):
        if value is None:
            return
        ok = value <= limit
        out.append("- %s <= %s: %s (%s%s)" % (
            label, unit_fmt(limit), "met" if ok else "NOT met", unit_fmt(value),
            "" if ok else ", %.2fx the target" % (value / limit)))

    def pauses(c, k):
        return max(median(c[k]["pause_us"]), median(c[k]["gap_us"]))

    c = cols.get("idle64")
    if c:
        check("idle64 census pause", pauses(c, "pp"), 15e3, fmt_ms)
        if c.get("graph"):
            check("idle64 default report pause", pauses(c, "graph"), 15e3, fmt_ms)
    m = cols.get("1M")
    if m:
        ip = median(m["inproc_us"])
        check("1M census pause (0.5 x in-process census %s)" % fmt_ms(ip), pauses(m, "pp"),
              0.5 * ip, fmt_ms)
        if m.get("graph"):
            check("1M default report wall, warm", median(m["graph"]["wall_ms"]) * 1e3, 1.5e6,
                  fmt_ms)
    p = cols.get("payload")
    if p and p.get("graph"):
        check("payload default report pause", pauses(p, "graph"), 60e3, fmt_ms)
    t = cols.get("10M")
    if t:
        check("10M census pause", pauses(t, "pp"), 450e3, fmt_ms)
    for name, c in cols.items():  # pypeek's peak RSS, whatever the heap
        for k, what in (("pp", "census"), ("graph", "default report")):
            if c.get(k):
                check("%s %s: pypeek peak RSS" % (name, what), median(c[k]["rss_kib"]) / 1024,
                      256, lambda v: "%.0f MiB" % v)
    for s, c in cols.items():
        out.append("- %s census total: pypeek %s, the target's own count %s: %s" % (
            s, "{:,}".format(c["pp"]["total"]), "{:,}".format(c["pp"]["own_total"]),
            "equal" if c["pp"]["total"] == c["pp"]["own_total"] else
            "DIFFERENT by %+d (by type, pypeek minus the target's: %s)" % (
                c["pp"]["total"] - c["pp"]["own_total"], ", ".join(
                    "%s %+d" % kv for kv in sorted(c["pp"].get("type_diff", {}).items())))))
    return out


if __name__ == "__main__":
    main()
