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


def describe_threads(pid):
    """Each thread's state, wait channel, system call, signal masks and tracer, one line per
    thread: what a test prints when a target stops answering."""
    lines = []
    try:
        tids = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    except FileNotFoundError:
        return "process %d is gone" % pid
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "status") as f:
                st = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            with open(base + "wchan") as f:
                wchan = f.read()
            with open(base + "syscall") as f:
                syscall = f.read().split(" ", 1)[0].strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        lines.append("tid %s: %s wchan=%s syscall=%s SigBlk=%s SigPnd=%s ShdPnd=%s TracerPid=%s"
                     % (tid, st["State"].strip(), wchan, syscall, st["SigBlk"].strip(),
                        st["SigPnd"].strip(), st["ShdPnd"].strip(), st["TracerPid"].strip()))
    return "\n".join(lines)
