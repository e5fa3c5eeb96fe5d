"""gunicorn settings: gevent workers hold thousands of websockets and SSE streams each."""

import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
worker_connections = 10000
# Open streams would otherwise hold a restart for the default 30 s.
graceful_timeout = 5
timeout = 30
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def ready_line(address: str) -> str:
    """What `make run` says once the site answers (an address bound to all interfaces is opened
    as 127.0.0.1)."""
    host, _, port = address.rpartition(":")
    return f"Blueberry is ready at http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def when_ready(server):
    print(ready_line(bind), flush=True)


def post_worker_init(worker):
    """A graceful stop (SIGTERM; SIGHUP replaces workers that way) first tells every open socket
    and stream: sockets close with 1012 and their clients reconnect at once, streams end.

    The loaded app (its modules, classes and functions) is frozen out of the
    garbage collector: otherwise each full collection walks all of it, a pause of 50–140 ms on
    this machine that every socket of the worker waits out (the chat benchmark's p99)."""
    import gc
    import signal

    import gevent

    from blueberry.realtime.hub import announce_restart

    stop = worker.handle_exit

    def handle_exit(sig, frame):
        stop(sig, frame)
        gevent.spawn(announce_restart, worker.wsgi)  # out of the signal handler

    signal.signal(signal.SIGTERM, handle_exit)
    gc.collect()
    gc.freeze()
