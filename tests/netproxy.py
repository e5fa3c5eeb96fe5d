"""A loopback TCP proxy that can cut the network: every open connection drops, new ones are refused."""

import contextlib
import socket
import threading

from tests.servers import free_port


class NetworkProxy:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.down = False
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """The network drops: open connections break and new ones fail until `restore`."""
        with self.lock:  # with `_accept`'s check: no connection slips in around the cut
            self.down = True
            for sock in list(self.sockets):
                _drop(sock)
            self.sockets.clear()

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.down:  # the network was cut while this connection was being made
                    client.close()
                    server.close()
                    continue
                self.sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                _drop(sock)


def _drop(sock: socket.socket) -> None:
    """End a connection for real. Shut down before closing: close() alone leaves a socket open
    while the other pump thread is blocked reading it, so the browser would not see the drop."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
