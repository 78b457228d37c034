"""Wire protocol and hostile input that boto3 cannot send (KINESIS-SEMANTICS 1.1, 1.2).

Raw requests are signed with botocore's SigV4 signer so that they are exactly
what a real client would send apart from the deliberate defect. After every
hostile request the server must still serve a normal boto3 call.
"""

import base64
import http.client
import json
import os
import random
import re
import socket
import threading
import time
from urllib.parse import urlparse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import create_stream, not_found_message, unique_name

CT = "application/x-amz-json-1.1"
PREFIX = "Kinesis_20131202."
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
ACCESS_DENIED = ("<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized"
                 "</Message>\n</AccessDeniedException>\n")


def sign(endpoint: str, body: bytes, target, content_type: str = CT, region: str = "us-east-1") -> dict:
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "kinesis", region).add_auth(req)
    return dict(req.headers.items())


class Raw:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        u = urlparse(endpoint)
        self.host, self.port = u.hostname, u.port

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def post(self, body, target=PREFIX + "ListStreams", content_type=CT, conn=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        headers = sign(self.endpoint, body, target, content_type)
        c = conn or self.conn()
        c.request("POST", "/", body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def request(self, method, path, body=None):
        c = self.conn()
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data


@pytest.fixture
def raw(rill):
    return Raw(rill.endpoint)


def error_body(data: bytes) -> dict:
    doc = json.loads(data)
    assert isinstance(doc, dict), data
    return doc


def assert_error(status, headers, data, code, http_status=400):
    assert status == http_status, (status, data)
    doc = error_body(data)
    assert doc.get("__type") == code, doc
    assert headers.get("x-amzn-errortype", "").split(":")[0] == code, headers
    assert UUID_RE.match(headers.get("x-amzn-requestid", "")), headers
    return doc


def message_of(doc: dict):
    return doc.get("message", doc.get("Message"))


# ------------------------------------------------------------ JSON and targets


@pytest.mark.parametrize("body", [b'{"StreamName": ', b"not json", b"{'single': 'quotes'}"])
def test_malformed_json(raw, assert_alive, body):
    st, h, d = raw.post(body, PREFIX + "DescribeStream")
    assert_error(st, h, d, "SerializationException")
    assert_alive()


def test_empty_body(raw, assert_alive):
    st, h, d = raw.post(b"", PREFIX + "ListStreams")
    assert_error(st, h, d, "SerializationException")
    assert_alive()


@pytest.mark.parametrize("target", [PREFIX + "NoSuchOperation", "Kinesis_20131202.", "Foo_20131202.ListStreams",
                                    "ListStreams", None])
def test_unknown_or_missing_target(raw, assert_alive, target):
    st, h, d = raw.post({}, target)
    doc = assert_error(st, h, d, "UnknownOperationException")
    assert doc == {"__type": "UnknownOperationException"}, doc
    assert_alive()


@pytest.mark.parametrize(
    "target,body",
    [
        ("DescribeStreamSummary", {"StreamName": {}}),
        ("DescribeStreamSummary", {"StreamName": ["a"]}),
        ("CreateStream", {"StreamName": "wrong-types", "ShardCount": "abc"}),
        ("CreateStream", {"StreamName": "wrong-types", "ShardCount": {}}),
        ("PutRecords", {"StreamName": "x", "Records": {}}),
        ("PutRecords", {"StreamName": "x", "Records": [17]}),
        ("ListStreams", {"Limit": "ten"}),
        ("GetShardIterator", {"StreamName": "x", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
                              "Timestamp": "yesterday"}),
        ("AddTagsToStream", {"StreamName": "x", "Tags": ["a", "b"]}),
        ("ListStreams", []),
        ("ListStreams", "a string"),
    ],
)
def test_wrong_json_types(raw, assert_alive, target, body):
    st, h, d = raw.post(json.dumps(body), PREFIX + target)
    doc = assert_error(st, h, d, "SerializationException")
    # Coral style: capital "Message" for serialization errors (KINESIS-SEMANTICS 1.1).
    assert isinstance(doc.get("Message"), str) and doc["Message"], doc
    assert_alive()


def test_wrong_type_messages(raw):
    st, h, d = raw.post({"StreamName": {}}, PREFIX + "DescribeStreamSummary")
    assert assert_error(st, h, d, "SerializationException")["Message"] == \
        "Start of structure or map found where not expected."
    st, h, d = raw.post({"StreamName": "x", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
                         "Timestamp": "yesterday"}, PREFIX + "GetShardIterator")
    assert assert_error(st, h, d, "SerializationException")["Message"] == \
        "class java.lang.String can not be converted to milliseconds since epoch"


def test_malformed_base64_data(raw, stream, assert_alive, kinesis):
    st, h, d = raw.post({"StreamName": stream, "PartitionKey": "k", "Data": "abc"}, PREFIX + "PutRecord")
    doc = assert_error(st, h, d, "SerializationException")
    assert "Base64 encoded length is expected a multiple of 4 bytes but found: 3" in message_of(doc), doc
    st, h, d = raw.post({"StreamName": stream, "PartitionKey": "k", "Data": "!!!!"}, PREFIX + "PutRecord")
    assert_error(st, h, d, "SerializationException")
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=it)["Records"] == []
    assert_alive()


def test_unknown_members_ignored_and_null_is_absent(raw, kinesis, stream):
    st, h, d = raw.post({"StreamName": stream, "Limit": None, "ExclusiveStartShardId": None, "Bogus": {"x": [1]}},
                        PREFIX + "DescribeStream")
    assert st == 200, d
    desc = json.loads(d)["StreamDescription"]
    assert desc["StreamName"] == stream and len(desc["Shards"]) == 1


def test_fractional_integer_is_truncated(raw, kinesis):
    create_stream(kinesis, shards=1)
    create_stream(kinesis, shards=1)
    st, h, d = raw.post({"Limit": 1.7}, PREFIX + "ListStreams")
    assert st == 200, d
    assert len(json.loads(d)["StreamNames"]) == 1


# ------------------------------------------------------------ success and error shapes


def test_success_headers_and_content_type(raw, stream):
    st, h, d = raw.post({"StreamName": stream}, PREFIX + "DescribeStreamSummary")
    assert st == 200
    assert h["content-type"].startswith(CT)
    assert UUID_RE.match(h["x-amzn-requestid"])
    id2 = h.get("x-amz-id-2", "")
    assert len(id2) == 96 and len(base64.b64decode(id2, validate=True)) == 72, id2
    assert h.get("date")
    assert int(h["content-length"]) == len(d)
    assert json.loads(d)["StreamDescriptionSummary"]["StreamName"] == stream


def test_request_ids_are_unique(raw):
    ids = {raw.post({}, PREFIX + "ListStreams")[1]["x-amzn-requestid"] for _ in range(5)}
    assert len(ids) == 5


def test_error_shape_resource_not_found(raw):
    name = unique_name("missing")
    st, h, d = raw.post({"StreamName": name}, PREFIX + "DescribeStream")
    doc = assert_error(st, h, d, "ResourceNotFoundException")
    assert doc["message"] == not_found_message(name), doc
    assert "x-amz-id-2" in h and h.get("date")
    assert int(h["content-length"]) == len(d)


def test_operation_without_output_returns_empty_or_empty_object(raw, kinesis):
    name = unique_name("raw-create")
    st, h, d = raw.post({"StreamName": name, "ShardCount": 1}, PREFIX + "CreateStream")
    assert st == 200
    assert d in (b"", b"{}")
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})


def test_keep_alive_serves_several_requests_on_one_connection(raw, stream):
    c = raw.conn()
    try:
        for _ in range(3):
            st, h, d = raw.post({"StreamName": stream}, PREFIX + "DescribeStreamSummary", conn=c)
            assert st == 200
        # An error does not close the connection either.
        st, h, d = raw.post({"StreamName": unique_name("nope")}, PREFIX + "DescribeStreamSummary", conn=c)
        assert st == 400
        st, h, d = raw.post({}, PREFIX + "ListStreams", conn=c)
        assert st == 200
    finally:
        c.close()


# ------------------------------------------------------------ HTTP methods


@pytest.mark.parametrize("method,path", [("GET", "/"), ("PUT", "/"), ("DELETE", "/"), ("GET", "/some/path")])
def test_non_post_is_access_denied(raw, assert_alive, method, path):
    st, h, d = raw.request(method, path)
    assert st == 403
    assert d.decode() == ACCESS_DENIED
    assert_alive()


def test_health_endpoint(raw):
    st, _, _ = raw.request("GET", "/health")
    assert st == 200


# ------------------------------------------------------------ abusive connections


def _read_response(sock: socket.socket, deadline: float) -> bytes:
    buf = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        except socket.timeout:
            continue
        if not chunk:
            break
        buf += chunk
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"content-length:\s*(\d+)", head, re.I)
            if m and len(rest) >= int(m.group(1)):
                break
    return buf


def test_huge_body_is_rejected(rill, assert_alive):
    # A valid ListStreams request padded with an unknown member (unknown members are ignored), far over the
    # 16 MiB that a 10 MiB PutRecords needs: only a body-size limit can reject it.
    size = 40 * 1024 * 1024
    prefix = b'{"Limit": 1, "Padding": "'
    suffix = b'"}'
    body = prefix + b"A" * (size - len(prefix) - len(suffix)) + suffix
    headers = sign(rill.endpoint, body, PREFIX + "ListStreams")
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{rill.port}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"

    sock = socket.create_connection(("127.0.0.1", rill.port), timeout=5)
    sent, closed_early = 0, False
    deadline = time.monotonic() + 60
    try:
        sock.sendall(head.encode())
        view = memoryview(body)
        while sent < len(body):
            assert time.monotonic() < deadline, "sending the body took too long"
            try:
                sock.sendall(view[sent:sent + 256 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                closed_early = True
                break
            sent += 256 * 1024
        reply = _read_response(sock, time.monotonic() + 20)
    finally:
        sock.close()
    if reply:
        status = int(reply.split(b" ", 2)[1])
        assert status in (400, 413), reply[:500]
    else:
        assert closed_early, "server neither answered with an error nor refused the oversized body"
    assert_alive()


def test_truncated_body_then_close(rill, assert_alive):
    body = json.dumps({"StreamName": "truncated", "ShardCount": 1}).encode()
    headers = sign(rill.endpoint, body, PREFIX + "CreateStream")
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{rill.port}\r\nContent-Length: {len(body) + 1000}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    for cut in (0, 5, len(body)):
        sock = socket.create_connection(("127.0.0.1", rill.port), timeout=5)
        sock.sendall(head.encode() + body[:cut])
        sock.close()
    # Half a request line, then close.
    sock = socket.create_connection(("127.0.0.1", rill.port), timeout=5)
    sock.sendall(b"POST / HT")
    sock.close()
    assert_alive()


def test_garbage_bytes_instead_of_http(rill, assert_alive):
    sock = socket.create_connection(("127.0.0.1", rill.port), timeout=5)
    try:
        sock.sendall(b"\x00\xff\x13garbage\r\n\r\n" * 10)
        reply = _read_response(sock, time.monotonic() + 5)
        if reply:
            assert reply.startswith(b"HTTP/1.1 4"), reply[:200]
    finally:
        sock.close()
    assert_alive()


def test_many_idle_connections_do_not_block_service(rill, assert_alive):
    socks = [socket.create_connection(("127.0.0.1", rill.port), timeout=5) for _ in range(50)]
    try:
        assert_alive()
    finally:
        for s in socks:
            s.close()
    assert_alive()


# ------------------------------------------------------------ model constraints from non-Python clients
# botocore checks required members and minimums itself; Java v2 and others do not, so the server sees these.


@pytest.mark.parametrize(
    "target,body,expected",
    [
        ("PutRecord", {"StreamName": "s", "PartitionKey": "", "Data": ""},
         "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: "
         "Member must have length greater than or equal to 1"),
        ("PutRecord", {"StreamName": "s", "PartitionKey": "k"},
         "1 validation error detected: Value null at 'data' failed to satisfy constraint: Member must not be null"),
        ("CreateStream", {"StreamName": "s", "ShardCount": 0},
         "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
         "Member must have value greater than or equal to 1"),
        ("GetRecords", {"ShardIterator": "x", "Limit": 0},
         "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
         "Member must have value greater than or equal to 1"),
        ("ListStreams", {"Limit": 0},
         "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
         "Member must have value greater than or equal to 1"),
        ("GetShardIterator", {"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "OLDEST"},
         "1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: "
         "Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, "
         "AT_TIMESTAMP]"),
    ],
)
def test_model_constraint_violations(raw, assert_alive, target, body, expected):
    st, h, d = raw.post(body, PREFIX + target)
    doc = assert_error(st, h, d, "ValidationException")
    assert message_of(doc) == expected
    assert_alive()


def test_put_records_empty_list(raw, assert_alive):
    st, h, d = raw.post({"StreamName": "s", "Records": []}, PREFIX + "PutRecords")
    doc = assert_error(st, h, d, "ValidationException")
    assert re.fullmatch(r"1 validation error detected: Value .* at 'records' failed to satisfy constraint: "
                        r"Member must have length greater than or equal to 1", message_of(doc)), doc
    assert_alive()


def test_several_violations_are_counted(raw, assert_alive):
    st, h, d = raw.post({"StreamName": "s"}, PREFIX + "PutRecord")
    doc = assert_error(st, h, d, "ValidationException")
    msg = message_of(doc)
    assert msg.startswith("2 validation errors detected: "), msg
    assert "Value null at 'data' failed to satisfy constraint: Member must not be null" in msg
    assert "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null" in msg
    assert msg.count("; ") == 1
    assert_alive()


# ------------------------------------------------------------ timestamps and CORS


def test_timestamps_are_epoch_second_numbers(raw, kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"t", PartitionKey="k")
    st, h, d = raw.post({"StreamName": stream}, PREFIX + "DescribeStreamSummary")
    created = json.loads(d)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert isinstance(created, (int, float)) and abs(created - time.time()) < 3600
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    st, h, d = raw.post({"ShardIterator": it}, PREFIX + "GetRecords")
    assert st == 200
    rec = json.loads(d)["Records"][0]
    assert isinstance(rec["ApproximateArrivalTimestamp"], (int, float))
    assert abs(rec["ApproximateArrivalTimestamp"] - time.time()) < 60
    # Millisecond precision at most.
    assert abs(round(rec["ApproximateArrivalTimestamp"], 3) - rec["ApproximateArrivalTimestamp"]) < 1e-6
    assert base64.b64decode(rec["Data"]) == b"t"
    # Java v2 sends millisecond decimals: accepted for AT_TIMESTAMP.
    st, h, d = raw.post({"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
                         "Timestamp": rec["ApproximateArrivalTimestamp"]}, PREFIX + "GetShardIterator")
    assert st == 200, d
    assert json.loads(d)["ShardIterator"]


def test_cors(raw, stream):
    body = json.dumps({"StreamName": stream}).encode()
    headers = sign(raw.endpoint, body, PREFIX + "DescribeStreamSummary")
    headers["Origin"] = "http://example.com"
    c = raw.conn()
    c.request("POST", "/", body=body, headers=headers)
    r = c.getresponse()
    r.read()
    assert r.status == 200
    assert r.getheader("Access-Control-Allow-Origin") == "*"
    exposed = {x.strip().lower() for x in (r.getheader("Access-Control-Expose-Headers") or "").split(",")}
    assert {"x-amzn-requestid", "x-amzn-errortype", "x-amz-id-2"} <= exposed, exposed
    c.close()

    c = raw.conn()
    c.request("OPTIONS", "/", headers={"Origin": "http://example.com", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type,x-amz-target"})
    r = c.getresponse()
    r.read()
    assert r.status == 200
    assert r.getheader("Access-Control-Allow-Origin") == "*"
    assert "x-amz-target" in (r.getheader("Access-Control-Allow-Headers") or "").lower()
    assert "POST" in (r.getheader("Access-Control-Allow-Methods") or "")
    assert r.getheader("Access-Control-Max-Age") == "172800"
    c.close()


def test_pipelined_requests_are_answered_in_order(rill, stream, assert_alive):
    reqs = b""
    bodies = [{"StreamName": stream}, {"StreamName": unique_name("nope")}, {"StreamName": stream}]
    for b in bodies:
        body = json.dumps(b).encode()
        headers = sign(rill.endpoint, body, PREFIX + "DescribeStreamSummary")
        head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{rill.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        reqs += head.encode() + body
    sock = socket.create_connection(("127.0.0.1", rill.port), timeout=10)
    try:
        sock.sendall(reqs)
        f = sock.makefile("rb")
        statuses = []
        for _ in bodies:
            status_line = f.readline()
            statuses.append(int(status_line.split()[1]))
            length = 0
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode().partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            f.read(length)
        assert statuses == [200, 400, 200]
    finally:
        sock.close()
    assert_alive()


def test_path_is_ignored_and_header_names_are_case_insensitive(raw, rill, stream):
    body = json.dumps({"StreamName": stream}).encode()
    headers = sign(rill.endpoint, body, PREFIX + "DescribeStreamSummary")
    c = raw.conn()
    try:
        c.request("POST", "/some/path?x=1", body=body, headers=headers)
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read())["StreamDescriptionSummary"]["StreamName"] == stream
        c.request("POST", "/", body=body, headers={k.lower(): v for k, v in headers.items()})
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read())["StreamDescriptionSummary"]["StreamName"] == stream
    finally:
        c.close()


def test_connection_close_is_honoured(rill, raw):
    body = b"{}"
    headers = sign(rill.endpoint, body, PREFIX + "ListStreams")
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{rill.port}\r\nContent-Length: 2\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", rill.port), timeout=10)
    try:
        sock.sendall(head.encode() + body)
        data = b""
        deadline = time.monotonic() + 10
        while True:
            assert time.monotonic() < deadline, "server kept the connection open after Connection: close"
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 200")


def test_mixed_concurrent_load_has_no_server_errors(rill, assert_alive):
    """12 clients mixing control and data operations for ~3 s: no 5xx, no transport errors."""
    problems, lock = [], threading.Lock()
    stop = time.monotonic() + 3

    def worker(w):
        c = rill.client()
        rng = random.Random(w)
        mine = []
        while time.monotonic() < stop:
            op = rng.random()
            try:
                if op < 0.15 or not mine:
                    n = unique_name(f"load{w}")
                    c.create_stream(StreamName=n, ShardCount=rng.randint(1, 4))
                    c.get_waiter("stream_exists").wait(StreamName=n, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
                    mine.append(n)
                elif op < 0.25:
                    c.delete_stream(StreamName=mine.pop(rng.randrange(len(mine))))
                elif op < 0.6:
                    resp = c.put_records(StreamName=rng.choice(mine), Records=[
                        {"Data": os.urandom(rng.randint(0, 2000)), "PartitionKey": str(rng.random())}
                        for _ in range(rng.randint(1, 50))])
                    if resp["FailedRecordCount"]:
                        codes = {r.get("ErrorCode") for r in resp["Records"] if "ErrorCode" in r}
                        if codes - {"ProvisionedThroughputExceededException"}:
                            with lock:
                                problems.append(codes)
                elif op < 0.75:
                    c.list_streams(Limit=rng.randint(1, 20))
                elif op < 0.85:
                    c.list_shards(StreamName=rng.choice(mine))
                else:
                    n = rng.choice(mine)
                    it = c.get_shard_iterator(StreamName=n, ShardId="shardId-000000000000",
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                    c.get_records(ShardIterator=it)
            except ClientError as e:
                code = e.response["Error"]["Code"]
                status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                if status >= 500 or code not in ("LimitExceededException", "ProvisionedThroughputExceededException"):
                    with lock:
                        problems.append((code, status, str(e)[:200]))
            except Exception as e:  # transport errors
                with lock:
                    problems.append(repr(e)[:200])

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert not problems, problems[:10]
    assert_alive()
