"""A stand-in Celery worker (no broker here): detaches, writes its pidfile, and on TERM
does a 'warm shutdown' that takes --warm seconds; with --ignore-term it never stops on TERM."""

import argparse
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--pidfile", required=True)
parser.add_argument("--warm", type=float, default=0.5)
parser.add_argument("--ignore-term", action="store_true")
parser.add_argument("--log", required=True)
args = parser.parse_args()

if os.fork():
    sys.exit(0)
os.setsid()
if os.fork():
    sys.exit(0)
for fd in (0, 1, 2):
    os.dup2(os.open(os.devnull, os.O_RDWR), fd)


def log(line: str) -> None:
    with open(args.log, "a") as f:
        f.write(f"{os.getpid()} {line}\n")


def warm_shutdown(signum, frame):
    if args.ignore_term:
        log("TERM ignored")
        return
    log("warm shutdown")
    time.sleep(args.warm)
    log("done")
    sys.exit(0)


signal.signal(signal.SIGTERM, warm_shutdown)
with open(args.pidfile, "w") as f:
    f.write(str(os.getpid()))
log("started")
while True:
    time.sleep(0.05)
