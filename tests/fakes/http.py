"""A local HTTP server for the fakes: loopback, a port the kernel picks, one thread a request."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def shut(server: ThreadingHTTPServer | None) -> None:
    if server:
        server.shutdown()
        server.server_close()
