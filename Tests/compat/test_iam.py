"""IAM identity and resource policies, end to end (issue 17).

Three nodes and a router with a JSON credentials file and a cluster secret. boto3 and the aws CLI sign with
the producer's, the consumer's and another account's keys; every call is authorized where it is served (a
call sent to the router or to a node that does not lead the shard is forwarded with its caller), and a
refusal is AccessDeniedException in AWS's words. SIGHUP reloads the file; a bad file keeps the old keys.
A router without the cluster secret cannot join: the nodes refuse its hellos and say why.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cluster import ClusterRouter, cluster_with_router, member_states
from conftest import ACCOUNT, REGION, client_error, stream_arn, unique_name, wait_active

PARTNER_ACCOUNT = "222222222222"

ADMIN = {"Name": "admin", "AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "secret",
         "Policies": [{"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": ["kinesis:*", "rill:*"], "Resource": "*"}]}]}
# The example users.
PRODUCER = {"Name": "producer", "AccessKeyId": "AKIDPRODUCER", "SecretAccessKey": "producer-secret",
            "Account": ACCOUNT,
            "Policies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow",
                 "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:Describe*", "kinesis:List*"],
                 "Resource": "*"}]}]}
CONSUMER = {"Name": "consumer", "AccessKeyId": "AKIDCONSUMER", "SecretAccessKey": "consumer-secret",
            "Policies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:List*"],
                 "Resource": "*"},
                {"Effect": "Deny", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:*:*:stream/secret-*"}]}]}
PARTNER = {"Name": "partner", "AccessKeyId": "AKIDPARTNER", "SecretAccessKey": "partner-secret",
           "Account": PARTNER_ACCOUNT,
           "Policies": [{"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}]}


def users_file(path, users):
    path.write_text(json.dumps({"Users": users}, indent=1))


@pytest.fixture(scope="module")
def secured(rill_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rill-iam")
    credentials = workdir / "credentials.json"
    users_file(credentials, [ADMIN, PRODUCER, CONSUMER, PARTNER])
    secret = workdir / "cluster-secret"
    secret.write_text(os.urandom(32).hex() + "\n")
    extra = ["--credentials-file", str(credentials), "--cluster-secret-file", str(secret)]
    with cluster_with_router(rill_bin, workdir, extra=extra) as (cluster, router):
        yield cluster, router, credentials, workdir


def client(endpoint, user):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=user["AccessKeyId"], aws_secret_access_key=user["SecretAccessKey"],
                        config=Config(retries={"max_attempts": 1}, read_timeout=30))


def endpoints(secured):
    cluster, router, _, _ = secured
    # The router forwards every call; node 3 serves what it leads and forwards the rest.
    return {"router": router.endpoint, "node": cluster.node(3).endpoint}


def denied(fn, **kwargs) -> str:
    with pytest.raises(ClientError) as error:
        fn(**kwargs)
    code, message, status = client_error(error)
    assert (code, status) == ("AccessDeniedException", 400), (code, message, status)
    return message


@pytest.mark.parametrize("via", ["router", "node"])
def test_producer_writes_consumer_reads(secured, via):
    endpoint = endpoints(secured)[via]
    admin, producer, consumer = client(endpoint, ADMIN), client(endpoint, PRODUCER), client(endpoint, CONSUMER)
    name = unique_name("orders")
    admin.create_stream(StreamName=name, ShardCount=2)
    wait_active(admin, name)
    put = producer.put_record(StreamName=name, Data=b"order-1", PartitionKey="customer-1")
    producer.put_records(StreamName=name, Records=[{"Data": b"order-2", "PartitionKey": "customer-2"}])
    assert producer.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 2

    message = denied(producer.get_shard_iterator, StreamName=name, ShardId=put["ShardId"],
                     ShardIteratorType="TRIM_HORIZON")
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/producer is not authorized to perform: "
                       f"kinesis:GetShardIterator on resource: {stream_arn(name)} because no identity-based "
                       f"policy allows the kinesis:GetShardIterator action")

    iterator = consumer.get_shard_iterator(StreamName=name, ShardId=put["ShardId"],
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = consumer.get_records(ShardIterator=iterator)["Records"]
    assert b"order-1" in [r["Data"] for r in records]
    # GetRecords is authorized on the stream the iterator names, whoever holds the iterator.
    denied(producer.get_records, ShardIterator=iterator)
    denied(consumer.put_record, StreamName=name, Data=b"nope", PartitionKey="k")
    denied(consumer.delete_stream, StreamName=name)
    assert name in admin.list_streams()["StreamNames"]


def test_explicit_deny_beats_allow(secured):
    endpoint = endpoints(secured)["router"]
    admin, consumer = client(endpoint, ADMIN), client(endpoint, CONSUMER)
    name = unique_name("secret")
    admin.create_stream(StreamName=name, ShardCount=1)
    wait_active(admin, name)
    iterator = consumer.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                           ShardIteratorType="LATEST")["ShardIterator"]
    message = denied(consumer.get_records, ShardIterator=iterator)
    assert message.endswith("with an explicit deny in an identity-based policy"), message


@pytest.mark.parametrize("via", ["router", "node"])
def test_resource_policy_grants_another_account_one_stream(secured, via):
    endpoint = endpoints(secured)[via]
    admin, partner = client(endpoint, ADMIN), client(endpoint, PARTNER)
    shared, private = unique_name("shared"), unique_name("private")
    for name in (shared, private):
        admin.create_stream(StreamName=name, ShardCount=1)
        wait_active(admin, name)
    # The partner's own policy allows everything; the streams are not its account's.
    message = denied(partner.put_record, StreamARN=stream_arn(shared), Data=b"x", PartitionKey="k")
    assert message == (f"User: arn:aws:iam::{PARTNER_ACCOUNT}:user/partner is not authorized to perform: "
                       f"kinesis:PutRecord on resource: {stream_arn(shared)} because no resource-based policy "
                       f"allows the kinesis:PutRecord action")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER_ACCOUNT}:root"},
        "Action": ["kinesis:PutRecord", "kinesis:DescribeStreamSummary"], "Resource": stream_arn(shared)}]}
    admin.put_resource_policy(ResourceARN=stream_arn(shared), Policy=json.dumps(policy))
    partner.put_record(StreamARN=stream_arn(shared), Data=b"from-partner", PartitionKey="k")
    partner.describe_stream_summary(StreamARN=stream_arn(shared))
    denied(partner.put_record, StreamARN=stream_arn(private), Data=b"x", PartitionKey="k")
    denied(partner.delete_stream, StreamARN=stream_arn(shared))
    admin.delete_resource_policy(ResourceARN=stream_arn(shared))
    denied(partner.put_record, StreamARN=stream_arn(shared), Data=b"x", PartitionKey="k")


def test_invalid_resource_policy_is_refused(secured):
    endpoint = endpoints(secured)["router"]
    admin = client(endpoint, ADMIN)
    name = unique_name()
    admin.create_stream(StreamName=name, ShardCount=1)
    wait_active(admin, name)
    with pytest.raises(ClientError) as error:
        admin.put_resource_policy(ResourceARN=stream_arn(name), Policy=json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}))
    code, message, _ = client_error(error)
    assert code == "InvalidArgumentException" and "needs a Principal" in message, (code, message)


def test_aws_cli_gets_access_denied(secured):
    endpoint = endpoints(secured)["router"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=CONSUMER["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=CONSUMER["SecretAccessKey"], AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
    result = subprocess.run(["aws", "kinesis", "create-stream", "--stream-name", unique_name(), "--shard-count", "1",
                             "--endpoint-url", endpoint, "--region", REGION], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "AccessDeniedException" in result.stderr, result.stderr
    assert "user/consumer is not authorized to perform: kinesis:CreateStream" in result.stderr, result.stderr


def wait_for(condition, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s")


def allowed(fn, **kwargs) -> bool:
    try:
        fn(**kwargs)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] == "AccessDeniedException":
            return False
        raise


def test_sighup_reloads_the_credentials_and_a_bad_file_keeps_them(secured):
    cluster, router, credentials, _ = secured
    processes = [*cluster.nodes, router]
    admin = client(router.endpoint, ADMIN)
    name = unique_name("reload")
    admin.create_stream(StreamName=name, ShardCount=1)
    wait_active(admin, name)
    original = credentials.read_text()
    try:
        # The producer may now read too.
        reader = json.loads(json.dumps(PRODUCER))
        reader["Policies"][0]["Statement"][0]["Action"].append("kinesis:GetShardIterator")
        users_file(credentials, [ADMIN, reader, CONSUMER, PARTNER])
        for process in processes:
            process.proc.send_signal(signal.SIGHUP)
        producer = client(router.endpoint, PRODUCER)
        wait_for(lambda: allowed(producer.get_shard_iterator, StreamName=name, ShardId="shardId-000000000000",
                                 ShardIteratorType="LATEST"), "the producer was not allowed GetShardIterator")
        for process in processes:
            wait_for(lambda: "credentials reloaded" in process.log_path.read_text(errors="replace"),
                     f"{process.node_id} did not log the reload")

        # A file that does not parse changes nothing, and says so.
        credentials.write_text("{not json")
        for process in processes:
            process.proc.send_signal(signal.SIGHUP)
        for process in processes:
            wait_for(lambda: "credentials not reloaded" in process.log_path.read_text(errors="replace"),
                     f"{process.node_id} did not log the refused reload")
            assert process.alive()
        assert allowed(producer.get_shard_iterator, StreamName=name, ShardId="shardId-000000000000",
                       ShardIteratorType="LATEST")
    finally:
        credentials.write_text(original)
        for process in processes:
            process.proc.send_signal(signal.SIGHUP)
    denied_again = client(router.endpoint, PRODUCER)
    wait_for(lambda: not allowed(denied_again.get_shard_iterator, StreamName=name, ShardId="shardId-000000000000",
                                 ShardIteratorType="LATEST"), "the original policies did not come back")


def test_a_router_without_the_cluster_secret_is_refused(secured, rill_bin):
    cluster, _, credentials, workdir = secured
    outsider = ClusterRouter(rill_bin, workdir / "outsider", cluster.nodes[0].join,
                             extra=["--credentials-file", str(credentials)])
    outsider.node_id = 1001
    (workdir / "outsider").mkdir(exist_ok=True)
    outsider.start()
    try:
        node_logs = lambda: "".join(n.log_path.read_text(errors="replace") for n in cluster.nodes)
        wait_for(lambda: "the hello carries no proof of the cluster secret" in node_logs(),
                 "no node refused the outsider's hello")
        assert not outsider.ready()
    finally:
        outsider.stop()


def curl_signed(url: str, user, *args: str) -> tuple[int, str]:
    """(HTTP status, body) of a request curl signs with SigV4 as `user`."""
    result = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "--aws-sigv4", f"aws:amz:{REGION}:kinesis",
                             "--user", f"{user['AccessKeyId']}:{user['SecretAccessKey']}", *args, url],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_admin_endpoints_on_the_api_port_need_a_signed_caller_allowed_the_action(secured):
    cluster, _, _, _ = secured
    node = cluster.node(1)
    # Unsigned: refused as a Kinesis call would be; the member is still there.
    status, body = node.post("/admin/members/remove", b'{"id": 3}')
    assert status == 400 and b"MissingAuthenticationTokenException" in body, (status, body)
    with pytest.raises(Exception) as unsigned:
        node.get("/admin/checksums")
    assert "400" in str(unsigned.value)
    # Signed by a key whose policies allow only kinesis:* actions.
    status, body = curl_signed(node.endpoint + "/admin/checksums", CONSUMER)
    assert status == 400 and "AccessDeniedException" in body, (status, body)
    assert "not authorized to perform: rill:ReadChecksums on resource: *" in body, body
    # Signed by a key allowed rill:*.
    status, body = curl_signed(node.endpoint + "/admin/checksums", ADMIN)
    assert status == 200, (status, body)
    assert json.loads(body)["node"] == 1
    # Status and probes stay open: rill status and load balancers read them unsigned.
    assert node.status()["members"]
    assert node.ready()
    assert member_states(node)[3] == "alive"
