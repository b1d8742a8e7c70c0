"""One postback request: to an address already checked, within one deadline for the whole exchange.

A socket timeout bounds each read on its own, so a server that drips a byte a second never trips it and
holds the sender as long as it likes. Here every socket operation (connect, TLS handshake, send, each
read) gets only the time left of one deadline, and the name in the URL is never resolved again: the
connection goes to an address the caller checked, with the URL's host in the Host header and, for https,
in SNI and the certificate check.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from requests.certs import where as ca_bundle

# The answer is read to its end, so a partner's huge body could still hold us until the deadline; past
# this many bytes its status is all we need.
MAX_ANSWER_BYTES = 64 * 1024


class DeadlinePassed(TimeoutError):
    """The exchange did not finish within the deadline."""


@dataclass(frozen=True)
class Answer:
    status: int
    location: str | None


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self._ends - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed(f"no complete answer within {self.seconds:g} s")
        return remaining


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: socket.socket, deadline: _Deadline):
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """The part of a socket http.client uses, each call limited to the time left."""

    def __init__(self, sock: socket.socket, deadline: _Deadline):
        self._sock, self._deadline = sock, deadline

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._deadline.left())
        self._sock.sendall(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only 'rb' is supported, got {mode!r}")
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def close(self) -> None:
        self._sock.close()


@cache
def tls_context() -> ssl.SSLContext:
    """Verifies certificates and host names; the CA bundle requests uses, so what verified there verifies here."""
    return ssl.create_default_context(cafile=ca_bundle())


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection named for the URL's host that connects to given addresses only."""

    def __init__(self, host: str, port: int, addresses: list[str], deadline: _Deadline, tls: bool):
        super().__init__(host, port)
        self.default_port = 443 if tls else 80  # so the Host header names a port only when it is not the default
        self._addresses, self._deadline, self._tls = addresses, deadline, tls

    def connect(self) -> None:
        sock = self._open()
        try:
            if self._tls:
                sock.settimeout(self._deadline.left())
                sock = tls_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self._deadline)

    def _open(self) -> socket.socket:
        failure: OSError = OSError("no address to connect to")
        for address in self._addresses:
            # A plain socket, not create_connection: that would ask the resolver again, even for a literal.
            sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.settimeout(self._deadline.left())
                sock.connect((address, self.port))
                return sock
            except TimeoutError:
                sock.close()
                raise  # the deadline is spent; another address cannot be tried in time
            except OSError as exc:
                sock.close()
                failure = exc
        raise failure


def fetch(url: str, addresses: list[str], headers: dict[str, str], deadline_seconds: float) -> Answer:
    """GET ``url`` from the first of ``addresses`` that accepts; the whole exchange ends at the deadline.

    Raises ``TimeoutError`` when the deadline passes (``DeadlinePassed`` or a socket timeout set to the time
    left), ``OSError`` or ``http.client.HTTPException`` when the exchange fails. Redirects are answers.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http or https URL: {url!r}")
    tls = parts.scheme == "https"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = _Deadline(deadline_seconds)
    connection = _PinnedConnection(parts.hostname, parts.port or (443 if tls else 80), addresses, deadline, tls)
    try:
        connection.request("GET", target, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return Answer(response.status, response.getheader("Location"))
    finally:
        connection.close()
