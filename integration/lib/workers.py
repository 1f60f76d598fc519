"""Whether a target's worker threads still make progress after pypeek: the counters that
threads_fixture.py and busy_fixture.py print on SIGUSR1 (facts from the target itself)."""
import ctypes
import os
import signal
import time

from harness import TestFailure, check

ANSWER_TIMEOUT = 10  # seconds: a handler that ran answers in milliseconds
PROGRESS_TIMEOUT = 20  # seconds every worker may take to count on (the GIL is not fair)

_libc = ctypes.CDLL(None, use_errno=True)


def counters(t):
    """The target's counters, asked for with a SIGUSR1 to its main thread (tgkill): CPython
    runs Python handlers in the main thread only, and a process-directed signal may go to a
    worker (the kernel's choice, pypeek or not). A signal that lands just before the main
    thread blocks again only sets CPython's flag (a lock's wait is not interrupted), so it is
    sent again each second, up to ANSWER_TIMEOUT."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        check(_libc.tgkill(t.pid, t.pid, signal.SIGUSR1) == 0,
              "tgkill(%d): %s" % (t.pid, os.strerror(ctypes.get_errno())))
        try:
            return t.read_line(timeout=1.0)["counters"]
        except TestFailure:
            if time.monotonic() > deadline:
                raise


def check_progress(t, what, limit=PROGRESS_TIMEOUT):
    """Every worker thread of the target counts on (bounded wait): pypeek left none stopped
    and none waiting forever for the GIL."""
    before = counters(t)
    after = before
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        after = counters(t)
        if all(a > b for a, b in zip(after, before)):
            return
    raise TestFailure("%s: worker threads stopped making progress: %s -> %s"
                      % (what, before, after))
