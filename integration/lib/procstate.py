"""Thread states of a target from /proc, for tests that check pypeek never leaves it stopped."""
import os
import time


def task_states(pid):
    """{tid: (state letter, TracerPid)} from /proc/PID/task/*/status."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                text = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        out[int(tid)] = (fields["State"].split()[0], int(fields["TracerPid"]))
    return out


def any_stopped(pid):
    """True as soon as one thread of pid is in a ptrace or group stop (t/T): cheap, for
    polling. Reads /proc/PID/task/*/stat."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return False
    for tid in tids:
        try:
            fd = os.open("/proc/%d/task/%s/stat" % (pid, tid), os.O_RDONLY)
        except (FileNotFoundError, ProcessLookupError):
            continue
        try:
            stat = os.read(fd, 512)
        except ProcessLookupError:
            continue
        finally:
            os.close(fd)
        i = stat.rfind(b")")
        if i >= 0 and stat[i + 2:i + 3] in (b"t", b"T"):
            return True
    return False


def wait_until_frozen(p, pid, limit):
    """Polls until some thread of pid is stopped or the process p (pypeek) exits; True when
    the target was seen frozen."""
    deadline = time.monotonic() + limit
    while p.poll() is None and time.monotonic() < deadline:
        if any_stopped(pid):
            return True
    return False
