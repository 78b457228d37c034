"""With credentials configured, every request must be SigV4-signed by a known key (KINESIS-SEMANTICS §1.5).

boto3 and the aws CLI sign real requests; the server verifies them and refuses bad ones with the errors
AWS JSON services give.
"""
import subprocess
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REGION, RillServer, client_error, unique_name

AKID, SECRET = "AKIDRILLTEST", "rill-test-secret"


class SignedServer(RillServer):
    def __init__(self, *args, credentials_file, **kwargs):
        super().__init__(*args, **kwargs)
        self.credentials_file = credentials_file

    def command(self):
        return super().command() + ["--credentials-file", str(self.credentials_file)]


@pytest.fixture(scope="module")
def signed(rill_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rill-signed")
    credentials = workdir / "credentials"
    credentials.write_text(f"# test keys\n{AKID}:{SECRET}\n")
    server = SignedServer(rill_bin, workdir, credentials_file=credentials).start()
    yield server
    server.stop()


def client(server, key=AKID, secret=SECRET, region=REGION):
    return boto3.client("kinesis", endpoint_url=server.endpoint, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def test_correctly_signed_requests_are_served(signed):
    kinesis = client(signed)
    name = unique_name()
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.put_record(StreamName=name, Data=b"signed", PartitionKey="k")
    assert name in kinesis.list_streams()["StreamNames"]


def test_wrong_secret_is_an_invalid_signature(signed):
    with pytest.raises(ClientError) as error:
        client(signed, secret="not-the-secret").list_streams()
    code, message, status = client_error(error)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert "signature we calculated does not match" in message


def test_unknown_access_key_is_unrecognized(signed):
    with pytest.raises(ClientError) as error:
        client(signed, key="AKIDUNKNOWN").list_streams()
    assert client_error(error)[0] == "UnrecognizedClientException"


def test_unsigned_request_is_refused(signed):
    request = urllib.request.Request(signed.endpoint + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400
    assert error.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_signed_region_selects_the_namespace(signed):
    west, east = client(signed, region="us-west-2"), client(signed, region="us-east-1")
    name = unique_name()
    west.create_stream(StreamName=name, ShardCount=1)
    assert name in west.list_streams()["StreamNames"]
    assert name not in east.list_streams()["StreamNames"]


def test_aws_cli_signs_too(signed):
    env = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_PAGER": "", "PATH": "/usr/bin:/bin"}
    import os
    env["PATH"] = os.environ.get("PATH", env["PATH"])
    for key in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"):
        if key in os.environ:
            env[key] = os.environ[key]
    ok = subprocess.run(["aws", "kinesis", "list-streams", "--endpoint-url", signed.endpoint, "--region", REGION,
                         "--output", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    bad = subprocess.run(["aws", "kinesis", "list-streams", "--endpoint-url", signed.endpoint, "--region", REGION,
                          "--output", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "InvalidSignatureException" in bad.stderr


def _signed_request(server, body, auth, headers=None):
    """A PutRecord-shaped POST signed by one of botocore's own signers (header or query-string)."""
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1", **(headers or {})})
    auth(Credentials(AKID, SECRET)).add_auth(request)
    return request


def _send(url, body, headers):
    request = urllib.request.Request(url, data=body, method="POST", headers={
        k: v for k, v in headers.items() if k.lower() not in ("content-length",)})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_presigned_url_is_served_and_tampering_is_refused(signed):
    """A presigned URL (botocore's query-string signer, made without the body: UNSIGNED-PAYLOAD) works until it
    is changed."""
    from botocore.auth import S3SigV4QueryAuth
    request = _signed_request(signed, None, lambda creds: S3SigV4QueryAuth(creds, "kinesis", REGION, expires=300))
    assert "X-Amz-Signature=" in request.url and "Authorization" not in request.headers
    status, _, body = _send(request.url, b"{}", dict(request.headers.items()))
    assert status == 200, body
    assert "StreamNames" in body.decode()
    longer = request.url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000")
    status, headers, _ = _send(longer, b"{}", dict(request.headers.items()))
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidSignatureException")
    unsigned = request.url.split("&X-Amz-Signature=")[0]
    status, headers, _ = _send(unsigned, b"{}", dict(request.headers.items()))
    assert (status, headers["x-amzn-ErrorType"]) == (400, "IncompleteSignatureException")


def test_content_sha256_is_checked_against_the_body(signed):
    """x-amz-content-sha256 is signed as sent, so the server must check it against the bytes that arrived."""
    import hashlib
    from botocore.auth import SigV4Auth
    body = b'{"Limit": 5}'
    digest = hashlib.sha256(body).hexdigest()
    request = _signed_request(signed, body, lambda creds: SigV4Auth(creds, "kinesis", REGION),
                              headers={"X-Amz-Content-SHA256": digest})
    status, _, reply = _send(request.url, body, dict(request.headers.items()))
    assert status == 200, reply
    # Same signature and header, different bytes: refused by the hash check, not served.
    status, headers, reply = _send(request.url, b'{"Limit": 6}', dict(request.headers.items()))
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidSignatureException")
    assert b"x-amz-content-sha256" in reply
    # A signer that does not hash the body (payload signing off, as SDKs do over TLS) signs the literal.
    request = _signed_request(signed, body, lambda creds: SigV4Auth(creds, "kinesis", REGION),
                              headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    status, _, reply = _send(request.url, body, dict(request.headers.items()))
    assert status == 200, reply


def test_curl_aws_sigv4_is_served(signed):
    """curl's own SigV4 signer, a client that shares no code with botocore."""
    out = subprocess.run(
        ["curl", "-sS", "-X", "POST", signed.endpoint + "/", "--aws-sigv4", f"aws:amz:{REGION}:kinesis",
         "--user", f"{AKID}:{SECRET}", "-H", "X-Amz-Target: Kinesis_20131202.ListStreams",
         "-H", "Content-Type: application/x-amz-json-1.1", "-d", "{}", "-w", "\\n%{http_code}"],
        capture_output=True, text=True, timeout=30)
    body, _, status = out.stdout.rpartition("\n")
    assert status == "200", out.stdout + out.stderr
    assert "StreamNames" in body


def test_bench_signs_its_calls(signed, rill_bin):
    """`rill bench --credentials` loads a node that checks signatures; unsigned, the same run is refused."""
    base = [str(rill_bin), "bench", "--endpoint", signed.endpoint, "--shards", "1", "--producers", "1",
            "--batch", "10", "--records", "50", "--duration", "10", "--mode", "all"]
    ok = subprocess.run(base + ["--credentials", f"{AKID}:{SECRET}"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "put-record" in ok.stdout and "read" in ok.stdout
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("AWS_")}
    refused = subprocess.run(base, capture_output=True, text=True, timeout=120, env=env)
    assert refused.returncode != 0
    # The placeholder scope has no X-Amz-Date: AWS's answer to that is IncompleteSignatureException.
    assert "IncompleteSignatureException" in refused.stderr, refused.stdout + refused.stderr
