"""A loopback TCP proxy the test controls: cut and restore a service's broker connection
without touching the shared broker (ARCHITECTURE "Testing")."""
from __future__ import annotations

import socket

import eventlet


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = eventlet.listen(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.enabled = True
        self.pairs: set = set()  # live connections
        self.open_pairs: set = set()  # connections whose both directions still run
        self._gt = eventlet.spawn(self._accept)

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.enabled:
                _hard_close(client)
                continue
            try:
                upstream = eventlet.connect(self.target)
            except OSError:
                _hard_close(client)
                continue
            pair = (client, upstream)
            self.pairs.add(pair)
            self.open_pairs.add(pair)
            eventlet.spawn(self._pipe, client, upstream, pair)
            eventlet.spawn(self._pipe, upstream, client, pair)

    def _pipe(self, src, dst, pair):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        # wake the other direction with EOF; whichever finishes last closes both sockets,
        # so no greenthread is ever left waiting on a closed (and perhaps reused) fd
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.pairs.discard(pair)
        if pair in self.open_pairs:
            self.open_pairs.discard(pair)  # the first of the two directions to end
        else:
            for s in pair:
                _hard_close(s)

    def cut(self):
        """Drop every connection now and refuse new ones until ``restore``."""
        self.enabled = False
        for pair in list(self.pairs):
            for s in pair:
                try:  # readers wake with EOF and close their pair themselves
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def restore(self):
        self.enabled = True

    def close(self):
        self.cut()
        self._gt.kill()
        self.listener.close()


def _hard_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
