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
