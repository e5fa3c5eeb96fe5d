"""The supervisor under `make run`: a command that exits is started again, a killed one too, and
a stop signal stops the command's whole process group and then the supervisor."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import ROOT, wait_for


def supervise(command: str) -> subprocess.Popen:
    command_line = [sys.executable, "-m", "blueberry.supervise", "test", "--", command]
    return subprocess.Popen(command_line, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def runs(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_command_that_exits_is_started_again(tmp_path):
    log = tmp_path / "runs"
    supervisor = supervise(f"echo run >> {log}; exit 3")
    try:
        assert wait_for(lambda: len(runs(log)) >= 3, 10)  # after 1 s, then 2 s
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=5)
    assert "exited with code 3; starting again" in supervisor.stderr.read()


def test_a_killed_command_comes_back_and_a_stop_ends_its_whole_group(tmp_path):
    pids = tmp_path / "pids"
    supervisor = supervise(f"sleep 60 & echo $! >> {pids}; wait")  # a shell with a child of its own
    assert wait_for(lambda: len(runs(pids)) == 1, 5, every=0.05)
    first = int(runs(pids)[0])
    os.kill(first, signal.SIGKILL)  # the shell's wait returns: the command has exited
    assert wait_for(lambda: len(runs(pids)) == 2, 5)
    second = int(runs(pids)[1])
    started = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=5) is not None and time.monotonic() - started < 3
    assert wait_for(lambda: not alive(second), 3), "the command's child outlived the stop"
