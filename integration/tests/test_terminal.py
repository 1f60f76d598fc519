"""Terminal manners (issue 19): colour only when stdout is a terminal, never with NO_COLOR,
--no-color or TERM=dumb; progress lines only when stderr is a terminal. pypeek ps runs on a
pseudo-terminal (Python's pty) and on pipes, with a Python target of its own listed."""
import os
import pty
import re
import subprocess

from harness import EXIT_USAGE, check, check_eq

SGR = re.compile(rb"\x1b\[[0-9;]*m")


def on_pty(ctx, args, env):
    """Runs pypeek with stdout and stderr on one pseudo-terminal; returns (rc, bytes)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([ctx.pypeek] + args, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=120), out


def test_colour_and_progress_only_on_a_terminal(ctx):
    with ctx.start_target("idle_target.py") as t:
        t.read_line()
        env = dict(os.environ, TERM="xterm")
        env.pop("NO_COLOR", None)
        rc, out = on_pty(ctx, ["ps"], env)
        check_eq(rc, 0, "ps on a terminal: exit code")
        check(SGR.search(out), "no colour on a terminal: %r" % out[-300:])
        check(b"pypeek ps: process" in out, "no progress line on a terminal")
        check(str(t.pid).encode() in out, "the target is not listed")
        for what, extra, e in (("NO_COLOR=1", [], dict(env, NO_COLOR="1")),
                               ("--no-color", ["--no-color"], env),
                               ("TERM=dumb", [], dict(env, TERM="dumb"))):
            rc, out = on_pty(ctx, ["ps"] + extra, e)
            check_eq(rc, 0, "ps with %s: exit code" % what)
            check(not SGR.search(out), "colour with %s: %r" % (what, SGR.findall(out)[:3]))
            check(str(t.pid).encode() in out, "with %s the target is not listed" % what)
        p = subprocess.run([ctx.pypeek, "ps"], capture_output=True, env=env, timeout=120)
        check_eq(p.returncode, 0, "ps on pipes: exit code")
        check(b"\x1b" not in p.stdout and b"\x1b" not in p.stderr,
              "escape sequences on pipes: %r" % (p.stdout + p.stderr)[:300])
        check(b"pypeek ps: process" not in p.stderr, "a progress line on a pipe: %r"
              % p.stderr[:200])
        # the report's object graph: a progress line on a terminal, none with -q or on a pipe
        rc, out = on_pty(ctx, [str(t.pid)], env)
        check_eq(rc, 0, "report on a terminal: exit code")
        check(b"the object graph of pid %d" % t.pid in out, "no graph progress line: %r"
              % out[:300])
        rc, out = on_pty(ctx, ["-q", str(t.pid)], env)
        check(b"the object graph of" not in out, "a progress line with -q")
        p = subprocess.run([ctx.pypeek, str(t.pid)], capture_output=True, env=env, timeout=120)
        check_eq(p.returncode, 0, "report on pipes: exit code")
        check(b"object graph of" not in p.stderr and b"\x1b" not in p.stdout + p.stderr,
              "report on pipes: stderr %r" % p.stderr[:200])
        t.release()


def test_subcommand_without_operands_is_a_usage_error(ctx):
    """`pypeek diff` alone once read past the operands (a crash); now each says what it needs."""
    for cmd in ("diff", "snapshot", "watch", "why", "html"):
        rc, out, err = ctx.run_pypeek(cmd)
        check_eq(rc, EXIT_USAGE, "pypeek %s alone: exit code (stderr %r)" % (cmd, err.strip()[:200]))
