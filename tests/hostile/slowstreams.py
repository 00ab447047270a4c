"""A slow-body attacker on one HTTP/2 connection (the ``h2`` library over TLS): it opens many
streams, each announcing a large body, and sends one byte per stream every ``interval`` seconds
until stopped or until the server ends the stream. Used by the tests and ``bench/run attacks``."""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from pathlib import Path
from types import TracebackType

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class SlowStreams:
    """``streams`` POST requests on one HTTP/2 connection to ``host`` (TLS name) at
    ``127.0.0.1:port``, each announcing ``length`` bytes of body and sending one byte of it per
    ``interval``. :attr:`open_streams` says how many the server has not ended yet; :attr:`opened`
    how many were started."""

    def __init__(
        self,
        port: int,
        host: str,
        path: str,
        cafile: Path,
        *,
        streams: int = 200,
        length: int = 16_000,
        interval: float = 1.0,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.headers = headers
        self.port, self.host, self.path, self.cafile = port, host, path, cafile
        self.streams, self.length, self.interval = streams, length, interval
        self.opened = 0
        self.ended: dict[int, str] = {}
        """Stream id -> how the server ended it (``reset`` or the HTTP status it answered)."""
        self._live: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: ssl.SSLSocket | None = None
        self.error: BaseException | None = None

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._live)

    def __enter__(self) -> SlowStreams:
        context = ssl.create_default_context(cafile=str(self.cafile))
        context.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self._socket = context.wrap_socket(raw, server_hostname=self.host)
        assert self._socket.selected_alpn_protocol() == "h2", "the server did not agree to HTTP/2"
        self._conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self._conn.initiate_connection()
        self._flush()
        self._read(1.0)  # the server's SETTINGS (its concurrent streams limit)
        for _ in range(self.streams):
            stream = self._conn.get_next_available_stream_id()
            self._conn.send_headers(
                stream,
                [
                    (":method", "POST"),
                    (":scheme", "https"),
                    (":authority", self.host),
                    (":path", self.path),
                    ("content-type", "text/xml"),
                    *self.headers,
                    ("content-length", str(self.length)),
                ],
            )
            self._conn.send_data(stream, b"<")
            with self._lock:
                self._live.add(stream)
            self.opened += 1
        self._flush()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()

    def _flush(self) -> None:
        assert self._socket is not None
        data = self._conn.data_to_send()
        if data:
            self._socket.sendall(data)

    def _read(self, timeout: float) -> None:
        assert self._socket is not None
        ready, _, _ = select.select([self._socket], [], [], timeout)
        if not ready and not self._socket.pending():
            return
        data = self._socket.recv(65_536)
        if not data:
            raise ConnectionError("the server closed the connection")
        for event in self._conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers).get(b":status", b"?").decode()
                self._end(event.stream_id, status)
            elif isinstance(event, h2.events.StreamReset):
                self._end(event.stream_id, "reset")
            elif isinstance(event, h2.events.DataReceived):
                self._conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        self._flush()

    def _end(self, stream: int, how: str) -> None:
        with self._lock:
            self._live.discard(stream)
            self.ended.setdefault(stream, how)

    def _run(self) -> None:
        try:
            next_byte = time.monotonic() + self.interval
            while not self._stop.is_set():
                self._read(0.1)
                if time.monotonic() < next_byte:
                    continue
                next_byte += self.interval
                with self._lock:
                    live = sorted(self._live)
                for stream in live:
                    try:
                        self._conn.send_data(stream, b" ")
                    except h2.exceptions.StreamClosedError:
                        self._end(stream, "reset")
                self._flush()
        except (OSError, ConnectionError, h2.exceptions.ProtocolError) as exc:
            self.error = exc
            with self._lock:
                for stream in self._live:
                    self.ended.setdefault(stream, "closed")
                self._live.clear()
