"""Malformed HTTP/2 against a running node: at least 100,000 frame sequences after a valid preface — headers
that break HTTP/2's rules, frames of the wrong size or on the wrong stream, garbage header blocks, oversized and
endless header blocks, too many streams, random bytes and bit-flipped requests, bad prefaces and connections cut
mid-frame. Each sequence must get an error (RST_STREAM, GOAWAY, an error reply) or a closed stream/connection; the
node must stay up, keep its memory bounded and answer a normal request afterwards.

Sequences that break a stream go many to a connection, each on its own stream; the one that breaks the
connection comes last. Seeded, bounded in count and time (RILL_H2_FUZZ_SEQUENCES, default 100,000)."""

from __future__ import annotations

import os
import random
import select
import socket
import struct
import time

import hpack
import pytest

from h2client import H2Client, wait_until_ready

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, END_HEADERS = 0x1, 0x4
SEQUENCES = int(os.environ.get("RILL_H2_FUZZ_SEQUENCES", "100000"))
STREAM_ERRORS_PER_CONNECTION = 100
SEED = 16


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def request_headers(extra=()) -> list[tuple[str, str]]:
    return [(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "127.0.0.1"),
            ("x-amz-target", "Kinesis_20131202.ListStreams"), ("content-type", "application/x-amz-json-1.1"),
            *extra]


# -- sequences that break one stream (answered by RST_STREAM, or an error reply) ---------------------------------

def stream_error(rng: random.Random, encoder: hpack.Encoder, sid: int) -> bytes:
    """One malformed request on stream `sid`; the connection stays usable."""
    case = rng.randrange(9)
    stream_error.cases[sid] = case
    if case == 0:  # a pseudo-header missing
        missing = rng.choice([":method", ":path", ":scheme"])
        headers = [h for h in request_headers() if h[0] != missing]
    elif case == 1:  # an upper-case name
        headers = request_headers([("X-Upper", "v")])
    elif case == 2:  # a connection-specific header
        headers = request_headers([(rng.choice(["connection", "transfer-encoding", "keep-alive", "upgrade"]), "x")])
    elif case == 3:  # a response pseudo-header in a request
        headers = request_headers([(":status", "200")])
    elif case == 4:  # a pseudo-header after a regular one
        headers = request_headers()[1:] + [(":method", "POST")]
    elif case == 5:  # content-length that the body contradicts
        block = encoder.encode(request_headers([("content-length", "100")]))
        return frame(HEADERS, END_HEADERS, sid, block) + frame(DATA, END_STREAM, sid, b"{}" * rng.randrange(1, 10))
    elif case == 6:  # a zero window increment on an open stream
        block = encoder.encode(request_headers())
        return frame(HEADERS, END_HEADERS, sid, block) + frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", 0))
    elif case == 7:  # a field value with CR, LF or NUL, a duplicated pseudo-header, or a content-length not a number
        headers = request_headers([rng.choice([("x-bad", "a\r\nb"), ("x-bad", "a\x00b"), (":method", "GET"),
                                               ("content-length", "abc")])])
    else:  # te other than trailers
        headers = request_headers([("te", "gzip")])
    return frame(HEADERS, END_HEADERS | END_STREAM, sid, encoder.encode(headers))


stream_error.cases = {}  # stream id -> case, for failure messages


# -- sequences that break the connection (GOAWAY and close) -----------------------------------------------------

def connection_error(rng: random.Random, sid: int) -> bytes:
    case = rng.randrange(15)
    connection_error.last_case = case
    if case == 0:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if case == 1:  # a frame longer than SETTINGS_MAX_FRAME_SIZE
        return struct.pack(">I", 1 << 20)[1:] + bytes([DATA, 0]) + struct.pack(">I", sid) + b"x" * 100
    if case == 2:  # SETTINGS of a length that is not a multiple of 6
        return frame(SETTINGS, 0, 0, bytes(rng.randrange(1, 6)))
    if case == 3:  # a bad SETTINGS value
        return frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 2 + rng.randrange(100)))
    if case == 4:  # PING of the wrong length
        return frame(PING, 0, 0, bytes(rng.choice([0, 7, 9])))
    if case == 5:  # DATA on stream 0
        return frame(DATA, 0, 0, b"x")
    if case == 6:  # a header block that is not HPACK
        return frame(HEADERS, END_HEADERS | END_STREAM, sid, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
    if case == 7:  # CONTINUATION with no HEADERS before it
        return frame(CONTINUATION, END_HEADERS, sid, b"\x82")
    if case == 8:  # a connection window pushed past 2^31 - 1
        return frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)) * 2
    if case == 9:  # a header block without end: CONTINUATIONs until the limit
        encoder = hpack.Encoder()
        block = encoder.encode(request_headers([("x-big", "v" * 4000)]))
        return frame(HEADERS, 0, sid, block) + b"".join(frame(CONTINUATION, 0, sid, b"\x00" * 1000) for _ in range(60))
    if case == 10:  # a huge header list in one frame
        encoder = hpack.Encoder()
        headers = request_headers([(f"x-h{i}", "v" * 200) for i in range(120)])
        block = encoder.encode(headers)
        return frame(HEADERS, END_HEADERS | END_STREAM, sid, block[:16000])
    if case == 11:  # a client-initiated even stream id
        return frame(HEADERS, END_HEADERS | END_STREAM, sid + 1, hpack.Encoder().encode(request_headers()))
    if case == 14:  # a stream depending on itself (NIOHTTP2 ends the connection for it)
        return frame(PRIORITY, 0, sid, struct.pack(">IB", sid, rng.randrange(256)))
    if case == 12:  # PUSH_PROMISE from a client
        return frame(PUSH_PROMISE, END_HEADERS, sid, struct.pack(">I", sid + 1) + b"\x82")
    # too many streams: open streams past SETTINGS_MAX_CONCURRENT_STREAMS without ending them
    encoder = hpack.Encoder()
    return b"".join(frame(HEADERS, END_HEADERS, sid + 2 * i, encoder.encode(request_headers())) for i in range(200)) + \
        frame(GOAWAY, 0, 1, b"") + bytes(rng.randrange(256) for _ in range(40))


def mutate(rng: random.Random, data: bytes) -> bytes:
    """A valid request with bytes flipped."""
    data = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def parse(buffer: bytes) -> list[tuple[int, int, bytes]]:
    frames = []
    offset = 0
    while offset + 9 <= len(buffer):
        length = int.from_bytes(buffer[offset:offset + 3], "big")
        kind, stream = buffer[offset + 3], int.from_bytes(buffer[offset + 5:offset + 9], "big") & 0x7FFFFFFF
        frames.append((kind, stream, bytes(buffer[offset + 9:offset + 9 + length])))
        offset += 9 + length
    return frames


MARK = b"fuzzmark"


def read_frames(sock: socket.socket, timeout: float) -> tuple[list[tuple[int, int, bytes]], bool]:
    """Frames the server sent until it closed the connection (True), acknowledged our closing PING (everything
    before it is processed by then), or `timeout` passed: a hang, which fails the caller."""
    buffer = bytearray()
    deadline = time.monotonic() + timeout
    closed = False
    while time.monotonic() < deadline:
        if MARK in buffer and any(k == PING and p == MARK for k, _, p in parse(bytes(buffer))):
            return parse(bytes(buffer)), False
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            closed = True
            break
        buffer += chunk
    assert closed, "the server neither closed the connection nor answered its PING in time"
    return parse(bytes(buffer)), closed


def send_all(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server already closed it: that is an answer too


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def fuzz_node(server_factory):
    server = server_factory()
    server.start()
    wait_until_ready(server)
    yield server
    assert server.stop() == 0, server.log_tail()


def one_connection(port: int, rng: random.Random, stats: dict) -> int:
    """Sends up to STREAM_ERRORS_PER_CONNECTION stream-breaking sequences and one connection-breaking (or cut,
    or mutated) one; checks each was answered. Returns how many sequences it sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    encoder = hpack.Encoder()
    ending = rng.random()
    if ending < 0.03:  # a bad preface: HTTP/1.1 refuses it
        bad = bytearray(PREFACE)
        bad[rng.randrange(4, len(bad))] ^= 0x20
        send_all(sock, bytes(bad) + frame(SETTINGS, 0, 0, b""))
        frames, closed = read_frames(sock, 10)
        sock.close()
        assert closed
        stats["bad preface"] += 1
        return 1
    out = bytearray(PREFACE + frame(SETTINGS, 0, 0, b""))
    count = rng.randrange(1, STREAM_ERRORS_PER_CONNECTION + 1)
    sids = [1 + 2 * i for i in range(count)]
    for sid in sids:
        out += stream_error(rng, encoder, sid)
    # The stream-breaking sequences first, closed by a PING: its ACK means the server processed them all, and
    # their answers are read before anything can end the connection (a reset connection loses unread bytes).
    send_all(sock, bytes(out) + frame(PING, 0, 0, MARK))
    frames, closed = read_frames(sock, 10)
    resets = {stream for kind, stream, _ in frames if kind == RST_STREAM}
    answered = {stream for kind, stream, _ in frames if kind == HEADERS}
    goaway = [payload for kind, _, payload in frames if kind == GOAWAY]
    last_processed = int.from_bytes(goaway[0][:4], "big") & 0x7FFFFFFF if goaway else None
    connection_ended = bool(goaway) and int.from_bytes(goaway[0][4:8], "big") != 0 and closed
    for sid in sids:
        # Each broken stream was reset, refused with an error reply, left unprocessed by a GOAWAY before it, or
        # ended with the whole connection (GOAWAY with an error code, then close: some stream errors NIOHTTP2
        # treats as connection errors).
        ok = sid in resets or sid in answered or (last_processed is not None and sid > last_processed) or connection_ended
        assert ok, f"stream {sid} (case {stream_error.cases.get(sid)}) got no answer (last frames: " \
                   f"{[(k, s, p[:8].hex()) for k, s, p in frames][-6:]}, closed {closed}, {len(sids)} streams)"
        if sid not in resets and sid not in answered:
            stats["stream ended with the connection"] += 1
    stats["stream errors"] += len(sids)
    if closed:
        sock.close()
        stats["closed"] += 1
        return count
    # Then one sequence that ends the connection: GOAWAY and close, or a close (an RST counts).
    last = sids[-1] + 2
    if ending < 0.10:  # cut mid-frame: the server just cleans up
        valid = frame(HEADERS, END_HEADERS, last, encoder.encode(request_headers()))
        send_all(sock, valid[:rng.randrange(1, len(valid))])
        sock.close()
        stats["truncated"] += 1
        return count + 1
    if ending < 0.25:
        # Bit flips in the header block and the frames' type and flags; the lengths stay, so the frames still end
        # where the server expects (a longer length would only make it wait for bytes that never come).
        block = mutate(rng, hpack.Encoder().encode(request_headers()))
        tail = frame(HEADERS, END_HEADERS, last, block) + frame(DATA, END_STREAM, last, b"{}")
        tail = bytearray(tail)
        if rng.random() < 0.5:
            tail[rng.choice([3, 4])] ^= 1 << rng.randrange(8)
        tail = bytes(tail)
        stats["mutated"] += 1
    else:
        tail = connection_error(rng, last)
        stats["connection error"] += 1
    # A mutated request may still be valid, or a harmless frame the server must ignore: a PING after it tells
    # when the server has processed it without ending the connection.
    send_all(sock, tail + frame(PING, 0, 0, MARK))
    try:
        frames, closed = read_frames(sock, 10)
    except AssertionError as error:
        raise AssertionError(f"{error}: ending {ending:.3f}, case {getattr(connection_error, 'last_case', None)}") from None
    sock.close()
    goaway = [payload for kind, _, payload in frames if kind == GOAWAY]
    if ending >= 0.25:
        assert goaway or closed, f"connection error case {connection_error.last_case} left the connection open"
    stats["goaway"] += bool(goaway)
    stats["closed"] += closed
    return count + 1


def test_malformed_http2_frames_never_break_the_node(fuzz_node):
    rng = random.Random(SEED)
    pid = fuzz_node.proc.pid
    client = fuzz_node.client()
    client.list_streams()
    baseline = rss_kib(pid)
    stats = {k: 0 for k in ["bad preface", "truncated", "mutated", "connection error", "stream errors", "goaway",
                            "closed", "stream ended with the connection"]}
    sent = 0
    connections = 0
    started = time.monotonic()
    while sent < SEQUENCES:
        assert time.monotonic() - started < 240, f"only {sent} sequences in 240 s"
        sent += one_connection(fuzz_node.port, rng, stats)
        connections += 1
        if connections % 200 == 0:
            assert fuzz_node.alive(), fuzz_node.log_tail()
    elapsed = time.monotonic() - started
    print(f"\n{sent} sequences on {connections} connections in {elapsed:.1f}s: {stats}")
    assert fuzz_node.alive(), fuzz_node.log_tail()
    # Still serves both protocols.
    assert client.list_streams()["ResponseMetadata"]["HTTPStatusCode"] == 200
    h2 = H2Client(fuzz_node.port)
    try:
        assert h2.call("ListStreams", {}).status == 200
    finally:
        h2.close()
    grown = rss_kib(pid) - baseline
    assert grown < 128 * 1024, f"RSS grew by {grown} KiB during the fuzz run"
