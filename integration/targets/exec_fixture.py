"""Exec fixture: prints {"pid"} and, on SIGUSR1, waits argv[2] milliseconds and execs argv[1]
("sleep") so the process stops being Python while keeping its pid."""
import json
import os
import signal
import sys
import time

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
sys.stdout.write(json.dumps({"pid": os.getpid()}) + "\n")
sys.stdout.flush()
signal.sigwait({signal.SIGUSR1})
time.sleep(int(sys.argv[2]) / 1000)
os.execv(sys.argv[1], [sys.argv[1], "1000"])
