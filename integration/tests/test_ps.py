"""`pypeek ps` (issue 19) against processes the test starts: Debian's python3 on the host, a
matrix interpreter chrooted in its own mount and PID namespaces, a stripped copy with no debug
info and the built-in layout records off (listed, not readable, the reason said), and `sleep`
(not Python: absent). Versions come from each target itself; pid, user, threads, RSS, root and
mount namespace from /proc."""
import json
import os
import pwd
import subprocess
import tempfile

import stripped
import test_containers as containers
from harness import check, check_eq
from interpreters import by_name

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(os.path.dirname(os.path.dirname(HERE)), "schema", "pypeek.ps-1.json")
VALIDATE = r"""
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
errs = list(v.iter_errors(json.load(sys.stdin)))
for e in errs[:10]:
    print("/".join(str(p) for p in e.absolute_path), e.message[:300])
sys.exit(1 if errs else 0)
"""


def validate(out, what):
    """Against schema/pypeek.ps-1.json, with Debian's python3-jsonschema (install-deps)."""
    p = subprocess.run(["/usr/bin/python3", "-c", VALIDATE, SCHEMA], input=out.encode(),
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "%s does not validate: %s %s" % (what, p.stdout.decode(),
                                                              p.stderr.decode()[-500:]))
    return json.loads(out)


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def entry(ps, pid):
    hits = [p for p in ps["processes"] if p["pid"] == pid]
    check(len(hits) <= 1, "pid %d listed %d times" % (pid, len(hits)))
    return hits[0] if hits else None


def check_proc_facts(p, pid, what):
    st = proc_status(pid)
    uid = int(st["Uid"][0])
    check_eq(p["uid"], uid, "%s: uid" % what)
    check_eq(p["user"], pwd.getpwuid(uid).pw_name, "%s: user" % what)
    check_eq(p["threads"], int(st["Threads"][0]), "%s: threads" % what)
    check_eq(p["rss_bytes"], int(st["VmRSS"][0]) * 1024, "%s: RSS" % what)
    check_eq(p["build"], "gil", "%s: build" % what)


def test_ps_lists_python_processes(ctx):
    interp = by_name("debian-3.11")
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        with tempfile.TemporaryDirectory(prefix="pypeek-ps-") as d, \
                ctx.start_target("idle_target.py") as host, \
                containers.start_in_container(interp, "chroot", "idle_target.py") as jail, \
                stripped.StrippedInterpreter(11, stripped.strip_copy(
                    stripped.tree_python(11)[1][-1], d, False)).start("idle_target.py") as bare:
            host_truth, jail_truth, bare_truth = host.read_line(), jail.read_line(), \
                bare.read_line()
            jail_pid = containers.host_pid_of_python(jail, interp.minor)
            # No layout for the stripped copy: no build-id, no debug file, no record.
            env = dict(os.environ, PYPEEK_BUILTIN_RECORDS="0")
            env.pop("DEBUGINFOD_URLS", None)
            rc, out, err = ctx.run_pypeek("ps", "--json", env=env)
            check_eq(rc, 0, "ps --json exit code (stderr %r)" % err.strip())
            ps = validate(out, "ps --json")
            check_eq(ps["schema"], "pypeek.ps/1", "schema")

            p = entry(ps, host.pid)
            check(p is not None, "the host python %d is not listed" % host.pid)
            check_eq(p["python_version"], host_truth["version"], "host python: version")
            check_proc_facts(p, host.pid, "host python")
            check_eq(p["container"], None, "host python: container")
            check(p["readable"] is True, "host python not readable: %s" % p["reason"])

            p = entry(ps, jail_pid)
            check(p is not None, "the chrooted python %d is not listed" % jail_pid)
            check_eq(p["python_version"], jail_truth["version"], "chrooted python: version")
            check_proc_facts(p, jail_pid, "chrooted python")
            check(p["container"] is not None, "chrooted python: no container")
            check_eq(p["container"]["root"], os.readlink("/proc/%d/root" % jail_pid),
                     "chrooted python: root")
            check_eq(p["container"]["mount_namespace"],
                     os.readlink("/proc/%d/ns/mnt" % jail_pid), "chrooted python: mount ns")
            check(p["readable"] is True, "chrooted python not readable: %s" % p["reason"])

            p = entry(ps, bare.pid)
            check(p is not None, "the stripped python %d is not listed" % bare.pid)
            check_eq(p["python_version"], bare_truth["version"], "stripped python: version")
            check(p["readable"] is False, "the stripped python is called readable")
            check("no debug info" in (p["reason"] or ""),
                  "stripped python: the reason should say 'no debug info': %r" % p["reason"])

            check(entry(ps, sleeper.pid) is None, "sleep (pid %d) is listed" % sleeper.pid)

            rc, text, err = ctx.run_pypeek("ps", env=env)
            check_eq(rc, 0, "ps exit code (stderr %r)" % err.strip())
            for pid in (host.pid, jail_pid, bare.pid):
                check(any(line.split()[:1] == [str(pid)] for line in text.splitlines()),
                      "text: no line for pid %d" % pid)
            for t in (host, jail, bare):
                t.release()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_ps_says_why_ptrace_is_refused(ctx):
    """pypeek ps as uid 65534: a root-owned Python process is still listed (its command names
    python), not readable, and the reason names the uids and CAP_SYS_PTRACE."""
    import shutil
    from harness import Skip
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        raise Skip("needs root and setpriv to run pypeek as uid 65534")
    setpriv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    with ctx.start_target("idle_target.py") as t:
        t.read_line()
        p = subprocess.run(setpriv + [ctx.pypeek, "ps", "--json"], capture_output=True,
                           timeout=120)
        check_eq(p.returncode, 0, "ps as uid 65534: exit code (stderr %r)" % p.stderr[:300])
        e = entry(validate(p.stdout.decode(), "ps --json as uid 65534"), t.pid)
        check(e is not None, "the root-owned python %d is not listed" % t.pid)
        check(e["readable"] is False, "called readable by uid 65534")
        for phrase in ("ptrace not allowed", "uid 0", "uid 65534", "CAP_SYS_PTRACE"):
            check(phrase in e["reason"], "the reason should say %r: %r" % (phrase, e["reason"]))
        check_eq(e["uid"], 0, "uid")
        t.release()
