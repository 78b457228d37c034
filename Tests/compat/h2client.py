"""A small HTTP/2 Kinesis client over the `h2` package (PyPI), for the HTTP/2 tests: cleartext with prior
knowledge (h2c) or TLS with ALPN `h2`, SigV4-signed JSON calls, and SubscribeToShard event streams read
frame by frame, with flow control left to the test (the window opens only as the test reads)."""

from __future__ import annotations

import json
import select
import socket
import ssl
import time
from typing import Optional

import h2.config
import h2.connection
import h2.events
import h2.settings
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer

TARGET = "Kinesis_20131202."


class H2Stream:
    """One request's answer as it arrives: status, headers, body bytes or event-stream messages, and whether the
    server ended or reset the stream."""

    def __init__(self, stream_id: int):
        self.stream_id = stream_id
        self.status: Optional[int] = None
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.events = EventStreamBuffer()
        self.messages: list = []
        self.ended = False
        self.reset: Optional[int] = None
        self.received = 0  # DATA bytes, flow-controlled

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None

    def json(self):
        return json.loads(bytes(self.body))


class H2Client:
    def __init__(self, port: int, *, host: str = "127.0.0.1", ca: Optional[str] = None, window: int = 1 << 20,
                 auto_open_window: bool = True, region: str = "us-east-1", timeout: float = 10.0):
        self.host, self.port, self.region = host, port, region
        self.authority = f"{host}:{port}"
        self.scheme = "https" if ca else "http"
        raw = socket.create_connection((host, port), timeout=timeout)
        if ca:
            context = ssl.create_default_context(cafile=ca)
            context.set_alpn_protocols(["h2"])
            self.sock = context.wrap_socket(raw, server_hostname=host)
            assert self.sock.selected_alpn_protocol() == "h2", self.sock.selected_alpn_protocol()
        else:
            self.sock = raw
        self.sock.settimeout(timeout)
        self.auto_open_window = auto_open_window
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window,
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
        })
        self.conn.initiate_connection()
        self.streams: dict[int, H2Stream] = {}
        self.goaway = None
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self.flush()
        except OSError:
            pass
        self.sock.close()

    # -- requests -----------------------------------------------------------

    def start(self, operation: str, body, *, content_type: str = "application/x-amz-json-1.1") -> H2Stream:
        """Sends one signed Kinesis call (a dict as JSON, or bytes as they are) on a new stream and returns it;
        answers arrive through `pump`."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        url = f"{self.scheme}://{self.authority}/"
        request = AWSRequest(method="POST", url=url, data=payload, headers={
            "X-Amz-Target": TARGET + operation, "Content-Type": content_type})
        SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "kinesis", self.region).add_auth(request)
        headers = [(":method", "POST"), (":scheme", self.scheme), (":authority", self.authority), (":path", "/")]
        headers += [(k.lower(), v) for k, v in request.headers.items() if k.lower() != "host"]
        headers.append(("content-length", str(len(payload))))
        stream_id = self.conn.get_next_available_stream_id()
        self.streams[stream_id] = H2Stream(stream_id)
        self.conn.send_headers(stream_id, headers)
        self.conn.send_data(stream_id, payload, end_stream=True)
        self.flush()
        return self.streams[stream_id]

    def call(self, operation: str, body, timeout: float = 10.0, **kwargs) -> H2Stream:
        stream = self.start(operation, body, **kwargs)
        self.pump_until(lambda: stream.done, timeout, f"{operation} answered")
        return stream

    def open_window(self, stream: H2Stream, amount: int) -> None:
        self.conn.increment_flow_control_window(amount)
        if not stream.done:
            self.conn.increment_flow_control_window(amount, stream_id=stream.stream_id)
        self.flush()

    # -- reading ------------------------------------------------------------

    def pump(self, timeout: float) -> bool:
        """Reads what arrives within `timeout`; False once the server closed the connection."""
        if self.closed:
            return False
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready and not (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            return True
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self._handle(event)
        self.flush()
        return True

    def pump_until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for: {what}"
            if not self.pump(min(0.5, max(0.01, deadline - time.monotonic()))):
                assert condition(), f"connection closed before: {what} (goaway: {self.goaway})"
                return

    def _handle(self, event) -> None:
        stream = self.streams.get(getattr(event, "stream_id", None) or -1)
        if isinstance(event, h2.events.ResponseReceived) and stream:
            stream.headers = dict(event.headers)
            stream.status = int(stream.headers[":status"])
        elif isinstance(event, h2.events.DataReceived) and stream:
            stream.received += len(event.data)
            if stream.headers.get("content-type") == "application/vnd.amazon.eventstream":
                stream.events.add_data(event.data)
                stream.messages += list(stream.events)
            else:
                stream.body += event.data
            if self.auto_open_window:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded) and stream:
            stream.ended = True
        elif isinstance(event, h2.events.StreamReset) and stream:
            stream.reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event


def event_payloads(stream: H2Stream, start: int = 0) -> list[tuple[str, dict]]:
    """(event type, JSON payload) of the event-stream messages from `start` on."""
    out = []
    for message in stream.messages[start:]:
        kind = message.headers.get(":event-type") or message.headers.get(":exception-type")
        out.append((kind, json.loads(message.payload or b"{}")))
    return out


def wait_until_ready(server, timeout: float = 30.0) -> None:
    """/health answers while a node still starts; the tests here want it serving (GET /ready 200)."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(server.endpoint + "/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        assert time.monotonic() < deadline, f"not ready in {timeout}s\n{server.log_tail()}"
        time.sleep(0.05)
