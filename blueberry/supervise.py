"""Keep one process of `make run` running: `python -m blueberry.supervise <name> -- <command>`.

honcho stops every process as soon as one of them exits, so a crashed worker or a killed
embedded Redis would take the web server down with it. Each Procfile line therefore runs its
command (a shell command line) under this supervisor, which starts it again when it exits:
at once after a long run, after a pause that doubles up to 10 s while it keeps failing. It
stops only when it is told to (honcho's Ctrl-C sends SIGTERM or SIGINT): it passes the signal
to the command's whole process group, waits for it, and exits.
"""

import os
import signal
import subprocess
import sys
import time

FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 10.0
HEALTHY_RUN_S = 30.0  # a run this long resets the pause
STOP_WAIT_S = 10.0


class Supervisor:
    def __init__(self, name: str, command: str):
        self.name, self.command = name, command
        self.child: subprocess.Popen | None = None
        self.stopping, self.kill_at = False, 0.0

    def run(self) -> int:
        """Run the command until told to stop; the last exit code."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        pause = FIRST_PAUSE_S
        while not self.stopping:
            started = time.monotonic()
            code = self._run_once()
            if self.stopping:
                return code
            pause = FIRST_PAUSE_S if time.monotonic() - started > HEALTHY_RUN_S else min(pause * 2, MAX_PAUSE_S)
            self._say(f"exited with code {code}; starting again in {pause:.0f} s")
            self._sleep(pause)
        return 0

    def _run_once(self) -> int:
        # Its own process group: a signal reaches the shell and everything it started.
        self.child = subprocess.Popen(["/bin/sh", "-c", self.command], start_new_session=True)
        while True:
            try:
                return self.child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if self.stopping and time.monotonic() > self.kill_at:  # it ignored the signal
                    os.killpg(self.child.pid, signal.SIGKILL)

    def _stop(self, signum: int, frame) -> None:
        self.stopping, self.kill_at = True, time.monotonic() + STOP_WAIT_S
        if self.child is not None and self.child.poll() is None:
            os.killpg(self.child.pid, signum)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def _say(self, text: str) -> None:
        print(f"[supervise] {self.name} {text}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    return Supervisor(argv[0], " ".join(argv[2:])).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
