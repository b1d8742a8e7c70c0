"""Partner trackers on loopback for the postback tests, and the rows a postback needs."""

from __future__ import annotations

import hashlib
import hmac
import select
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

from core.db import db, utcnow
from tests.factories import OfferFactory
from tracker.attribution.models import Conversion
from tracker.postbacks.messages import enqueue_for_conversion
from tracker.postbacks.models import PostbackDelivery, PostbackEndpoint

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
_orders = count(1)


class Receiver:
    """A partner's tracker on loopback: records every request, answers 500 the first N times.

    ``gate``, when set, runs before each answer and its result is kept with the request.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        self.requests: list[dict] = []
        self.fail_first = 0
        self.status = 200
        self.location: str | None = None
        self.gate: Callable[[], object] | None = None
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                gate = receiver.gate() if receiver.gate else None
                with receiver._lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "gate": gate})
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= failing
                self.send_response(500 if failing else receiver.status)
                if receiver.location and not failing:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    @property
    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        self.server.shutdown()
        self.server.server_close()
        thread.join()


class Dripper:
    """A partner's tracker that reads the request, then answers one byte every half second.

    The whole answer is a valid ``200`` that takes about 20 s to arrive: a sender bounded per read only
    would wait for it and call the delivery a success.
    """

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.asked = 0  # requests read in full
        self._asked = threading.Condition()
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._spawn(self._accept)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            if not select.select([self.listener], [], [], 0.1)[0]:
                continue
            connection, _ = self.listener.accept()
            self.connections.append(connection)
            self._spawn(self._drip, connection)

    def _drip(self, connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        with self._asked:
            self.asked += 1
            self._asked.notify_all()
        for byte in self.ANSWER:
            if self._stop.wait(0.5):
                return
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return  # the sender hung up

    def wait_until_asked(self, times: int, timeout: float = 10) -> bool:
        with self._asked:
            return self._asked.wait_for(lambda: self.asked >= times, timeout)

    def open_connections(self) -> int:
        """Connections the sender still holds open (it has closed the others: they read as EOF)."""
        still_open = 0
        for connection in self.connections:
            try:
                still_open += connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
        return still_open

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for connection in self.connections:
            connection.close()
        self.listener.close()


def make_endpoint(partner, template: str, active: bool = True) -> PostbackEndpoint:
    endpoint = PostbackEndpoint(partner_id=partner.id, url_template=template, active=active)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def make_conversion(partner, offer=None, click=None, **values) -> Conversion:
    offer = offer or OfferFactory()
    values = {
        "event": "sale",
        "order_id": f"ORDER-{next(_orders)}",
        "amount_minor": 1999,
        "currency": "EUR",
        "status": "pending",
        "source": "api",
        "occurred_at": utcnow(),
    } | values
    conversion = Conversion(offer_id=offer.id, partner_id=partner.id, click_id=click.id if click else None, **values)
    db.session.add(conversion)
    return conversion


def queued(partner, **values) -> PostbackDelivery:
    """A conversion and its postback, committed together as the conversion code will do."""
    conversion = make_conversion(partner, **values)
    delivery = enqueue_for_conversion(conversion, "conversion")
    db.session.commit()
    return delivery


def verify_signature(secret: str, header: str, url: str) -> None:
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.{url}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
