"""The benchmark's sender, a process of its own (as an operator's command would be).

Arguments: user ids for a warm-up send. Then, for each JSON line `{"ids": [...], "title":
"..."}` on stdin, it sends that notification to all ids in one transaction, and prints the
monotonic clock (shared by all processes on Linux) at the start of the send, when the rows
are stored (before the commit that publishes them) and at the end, so that the clients'
receive times can be compared with it.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blueberry import create_app  # noqa: E402
from blueberry.extensions import db  # noqa: E402
from blueberry.services import notifications  # noqa: E402


def main() -> None:
    app = create_app()
    with app.app_context():
        # Warm up (connections, compiled statements, the cached Lua script) before the clock starts,
        # as a long-running server would be; the warm-up goes to users the benchmark does not watch.
        notifications.notify_many([int(uid) for uid in sys.argv[1:]], "warm-up")
        db.session.commit()
        print("ready", flush=True)
        for line in sys.stdin:  # one order per line, until the benchmark closes stdin
            order = json.loads(line)
            started = time.monotonic()
            notifications.notify_many(order["ids"], order["title"])
            stored = time.monotonic()
            db.session.commit()  # publishes after the commit
            print(started, stored, time.monotonic(), flush=True)


if __name__ == "__main__":
    main()
