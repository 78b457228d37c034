"""CloudWatch's metric reads on the Kinesis port (issue 21, docs/metrics.md "CloudWatch").

The last step of the standard hands-on Kinesis tutorial, unchanged: put records, read them back, then ask
CloudWatch (boto3's `cloudwatch` client and `aws cloudwatch get-metric-statistics`, endpoint = the Rill port)
for IncomingRecords, GetRecords.Records and GetRecords.IteratorAgeMilliseconds. Three nodes and a router: the
records are served by different shard leaders, and any node or the router answers for the whole cluster.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import subprocess
import time

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cluster import Cluster, ClusterRouter
from conftest import REGION, client_error, read_shard, unique_name, wait_active
from test_sigv4 import AKID, SECRET, SignedServer

SHARDS = 4


@pytest.fixture(scope="module")
def three_nodes_and_router(rill_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rill-cloudwatch")
    cluster = Cluster(rill_bin, workdir)
    router = ClusterRouter(rill_bin, workdir, cluster.nodes[0].join)
    router.start()
    try:
        cluster.start()
        router.wait_ready()
        yield cluster, router
    finally:
        router.stop()
        cluster.stop()


def cloudwatch(endpoint: str, session: botocore.session.Session | None = None):
    kwargs = dict(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )
    if session is not None:
        return session.create_client("cloudwatch", **kwargs)
    return boto3.client("cloudwatch", **kwargs)


def window() -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now - datetime.timedelta(minutes=15), now + datetime.timedelta(minutes=2)


def stream_sum(client, stream: str, metric: str, statistic: str = "Sum") -> float:
    start, end = window()
    answer = client.get_metric_statistics(
        Namespace="AWS/Kinesis",
        MetricName=metric,
        Dimensions=[{"Name": "StreamName", "Value": stream}],
        StartTime=start,
        EndTime=end,
        Period=60,
        Statistics=[statistic],
    )
    assert answer["Label"] == metric
    return answer["Datapoints"]


def total(datapoints: list[dict], statistic: str = "Sum") -> float:
    return sum(point[statistic] for point in datapoints)


@pytest.fixture(scope="module")
def tutorial_stream(three_nodes_and_router):
    """The tutorial's stream: 100 records put (PutRecord through a node, PutRecords through the router), then
    every shard read back from TRIM_HORIZON through the router."""
    cluster, router = three_nodes_and_router
    kinesis = router.client()
    name = unique_name("tutorial")
    kinesis.create_stream(StreamName=name, ShardCount=SHARDS)
    wait_active(kinesis, name, timeout=30)
    direct = cluster.nodes[1].client()
    per_shard: dict[str, int] = {}
    for i in range(20):
        shard = direct.put_record(StreamName=name, Data=f"one-{i}".encode(), PartitionKey=f"k{i}")["ShardId"]
        per_shard[shard] = per_shard.get(shard, 0) + 1
    answer = kinesis.put_records(
        StreamName=name,
        Records=[{"Data": f"many-{i}".encode(), "PartitionKey": f"p{i}"} for i in range(80)],
    )
    assert answer["FailedRecordCount"] == 0
    for record in answer["Records"]:
        per_shard[record["ShardId"]] = per_shard.get(record["ShardId"], 0) + 1
    read = 0
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        records = read_shard(kinesis, name, shard["ShardId"])
        assert len(records) == per_shard.get(shard["ShardId"], 0)
        read += len(records)
    assert read == 100
    return name, per_shard


def test_tutorial_metrics_from_the_router_and_from_every_node(three_nodes_and_router, tutorial_stream):
    cluster, router = three_nodes_and_router
    name, _ = tutorial_stream
    for member in [router, *cluster.nodes]:
        client = cloudwatch(member.endpoint)
        incoming = stream_sum(client, name, "IncomingRecords")
        assert total(incoming) == 100, (member.node_id, incoming)
        assert all(point["Unit"] == "Count" for point in incoming)
        assert total(stream_sum(client, name, "GetRecords.Records")) == 100, member.node_id
        ages = stream_sum(client, name, "GetRecords.IteratorAgeMilliseconds", "Maximum")
        assert ages and all(0 <= point["Maximum"] < 15 * 60_000 for point in ages), ages
        assert all(point["Unit"] == "Milliseconds" for point in ages)
        # 20 PutRecord calls of one record; PutRecords parts as the router split them, 80 records in all.
        assert total(stream_sum(client, name, "PutRecord.Success", "SampleCount"), "SampleCount") == 20
        assert total(stream_sum(client, name, "PutRecords.SuccessfulRecords")) == 80


def test_get_metric_data_and_list_metrics(three_nodes_and_router, tutorial_stream):
    cluster, router = three_nodes_and_router
    name, _ = tutorial_stream
    start, end = window()
    queries = [
        {
            "Id": metric_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Kinesis",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "StreamName", "Value": name}],
                },
                "Period": 60,
                "Stat": stat,
            },
        }
        for metric_id, metric, stat in [
            ("incoming", "IncomingRecords", "Sum"),
            ("read", "GetRecords.Records", "Sum"),
            ("age", "GetRecords.IteratorAgeMilliseconds", "Maximum"),
        ]
    ]
    answers = []
    for member in (router, cluster.nodes[2]):
        data = cloudwatch(member.endpoint).get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
        results = {result["Id"]: result for result in data["MetricDataResults"]}
        assert sum(results["incoming"]["Values"]) == 100
        assert sum(results["read"]["Values"]) == 100
        assert results["age"]["Values"] and results["incoming"]["StatusCode"] == "Complete"
        # Newest first by default, as CloudWatch answers.
        stamps = results["incoming"]["Timestamps"]
        assert stamps == sorted(stamps, reverse=True)
        answers.append({key: (value["Timestamps"], value["Values"]) for key, value in results.items()})
    assert answers[0] == answers[1]
    listed = cloudwatch(router.endpoint).list_metrics(
        Namespace="AWS/Kinesis", Dimensions=[{"Name": "StreamName", "Value": name}]
    )["Metrics"]
    names = {metric["MetricName"] for metric in listed}
    assert {"IncomingRecords", "IncomingBytes", "GetRecords.Records", "GetRecords.IteratorAgeMilliseconds"} <= names
    # Shard-level metrics only once enhanced monitoring asks for them, as on AWS.
    assert all(len(metric["Dimensions"]) == 1 for metric in listed)


def test_shard_level_metrics_follow_enhanced_monitoring(three_nodes_and_router):
    cluster, router = three_nodes_and_router
    kinesis = router.client()
    name = unique_name("enhanced")
    kinesis.create_stream(StreamName=name, ShardCount=2)
    wait_active(kinesis, name, timeout=30)
    kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingRecords"])
    per_shard: dict[str, int] = {}
    answer = kinesis.put_records(
        StreamName=name, Records=[{"Data": b"x", "PartitionKey": f"key-{i}"} for i in range(40)]
    )
    for record in answer["Records"]:
        per_shard[record["ShardId"]] = per_shard.get(record["ShardId"], 0) + 1
    client = cloudwatch(cluster.nodes[0].endpoint)
    start, end = window()
    for shard, count in per_shard.items():
        points = client.get_metric_statistics(
            Namespace="AWS/Kinesis",
            MetricName="IncomingRecords",
            Dimensions=[{"Name": "StreamName", "Value": name}, {"Name": "ShardId", "Value": shard}],
            StartTime=start,
            EndTime=end,
            Period=300,
            Statistics=["Sum"],
        )["Datapoints"]
        assert total(points) == count, shard
    listed = client.list_metrics(Namespace="AWS/Kinesis", Dimensions=[{"Name": "ShardId"}])["Metrics"]
    mine = [metric for metric in listed if {"Name": "StreamName", "Value": name} in metric["Dimensions"]]
    assert {metric["MetricName"] for metric in mine} == {"IncomingRecords"}
    assert len(mine) == len(per_shard)


def test_aws_cli_get_metric_statistics(three_nodes_and_router, tutorial_stream):
    cluster, router = three_nodes_and_router
    name, _ = tutorial_stream
    start, end = window()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret", AWS_PAGER="")
    for member in (router, cluster.nodes[0]):
        proc = subprocess.run(
            ["aws", "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Kinesis",
             "--metric-name", "IncomingRecords", "--dimensions", f"Name=StreamName,Value={name}",
             "--statistics", "Sum", "--period", "60",
             "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "--endpoint-url", member.endpoint, "--region", REGION, "--output", "json"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert total(json.loads(proc.stdout)["Datapoints"]) == 100


def percentiles(client, stream: str, metric: str, names: list[str]) -> list[dict]:
    start, end = window()
    return client.get_metric_statistics(
        Namespace="AWS/Kinesis", MetricName=metric, Dimensions=[{"Name": "StreamName", "Value": stream}],
        StartTime=start, EndTime=end, Period=900, ExtendedStatistics=names,
    )["Datapoints"]


@pytest.mark.parametrize("protocol", [None, "query"])
def test_latency_percentiles_merge_over_the_cluster(three_nodes_and_router, tutorial_stream, protocol, tmp_path):
    """ExtendedStatistics (p0, p50, p99, p100) of PutRecord.Latency, asked of the router: every node's sketch
    merged. p0 and p100 are the minimum and maximum within the sketch's 1 %."""
    cluster, router = three_nodes_and_router
    name, _ = tutorial_stream
    client = cloudwatch(router.endpoint, session_speaking(protocol, tmp_path) if protocol else None)
    start, end = window()
    plain = client.get_metric_statistics(
        Namespace="AWS/Kinesis", MetricName="PutRecord.Latency", Dimensions=[{"Name": "StreamName", "Value": name}],
        StartTime=start, EndTime=end, Period=900, Statistics=["Minimum", "Maximum", "SampleCount"],
    )["Datapoints"]
    points = percentiles(client, name, "PutRecord.Latency", ["p0", "p50", "p99", "p100"])
    assert len(points) == len(plain) >= 1, (points, plain)
    low, high = min(p["Minimum"] for p in plain), max(p["Maximum"] for p in plain)
    assert sum(p["SampleCount"] for p in plain) == 20
    for point in points:
        extended = point["ExtendedStatistics"]
        assert point["Unit"] == "Milliseconds" and "Sum" not in point
        assert extended["p0"] <= extended["p50"] <= extended["p99"] <= extended["p100"], extended
        assert low * 0.99 <= extended["p0"] and extended["p100"] <= high, (extended, low, high)
    assert max(p["ExtendedStatistics"]["p100"] for p in points) >= high * 0.99
    # Counts keep no sketch: their datapoints come without percentiles; a trimmed mean is refused.
    assert all("ExtendedStatistics" not in p for p in percentiles(client, name, "IncomingRecords", ["p99"]))
    with pytest.raises(ClientError) as error:
        percentiles(client, name, "PutRecord.Latency", ["tm99"])
    assert client_error(error)[0] == "InvalidParameterValue"


def test_aws_cli_extended_statistics_and_get_metric_data_p99(three_nodes_and_router, tutorial_stream):
    cluster, router = three_nodes_and_router
    name, _ = tutorial_stream
    start, end = window()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret", AWS_PAGER="")
    proc = subprocess.run(
        ["aws", "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Kinesis",
         "--metric-name", "GetRecords.Latency", "--dimensions", f"Name=StreamName,Value={name}",
         "--extended-statistics", "p50", "p99.9", "--period", "60",
         "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "--endpoint-url", router.endpoint, "--region", REGION, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    points = json.loads(proc.stdout)["Datapoints"]
    assert points and all(set(p["ExtendedStatistics"]) == {"p50", "p99.9"} for p in points), points
    assert all(0 <= p["ExtendedStatistics"]["p50"] <= p["ExtendedStatistics"]["p99.9"] for p in points)
    data = cloudwatch(cluster.nodes[2].endpoint).get_metric_data(
        MetricDataQueries=[{"Id": "p99", "MetricStat": {"Metric": {
            "Namespace": "AWS/Kinesis", "MetricName": "PutRecord.Latency",
            "Dimensions": [{"Name": "StreamName", "Value": name}]}, "Period": 900, "Stat": "p99"}}],
        StartTime=start, EndTime=end,
    )["MetricDataResults"][0]
    assert data["StatusCode"] == "Complete" and data["Values"] and all(v > 0 for v in data["Values"]), data


def session_speaking(protocol: str, tmp_path) -> botocore.session.Session:
    """A botocore session whose CloudWatch model names only `protocol`, as older SDKs (JSON 1.0) and the Go SDKs
    (query) speak it: the same client code, another wire."""
    session = botocore.session.get_session()
    model = copy.deepcopy(session.get_component("data_loader").load_service_model("cloudwatch", "service-2"))
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    folder = tmp_path / protocol / "cloudwatch" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    fresh = botocore.session.Session()
    fresh.get_component("data_loader").search_paths.insert(0, str(tmp_path / protocol))
    return fresh


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_older_protocols_answer_alike(three_nodes_and_router, tutorial_stream, protocol, tmp_path):
    cluster, router = three_nodes_and_router
    name, _ = tutorial_stream
    client = cloudwatch(router.endpoint, session_speaking(protocol, tmp_path))
    assert total(stream_sum(client, name, "IncomingRecords")) == 100
    listed = client.list_metrics(Namespace="AWS/Kinesis", MetricName="GetRecords.Records")["Metrics"]
    assert {"Name": "StreamName", "Value": name} in [d for metric in listed for d in metric["Dimensions"]]
    with pytest.raises(ClientError) as error:
        start, end = window()
        client.get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="IncomingRecords", StartTime=start, EndTime=end, Period=45,
            Statistics=["Sum"],
        )
    assert client_error(error)[0] == "InvalidParameterValue"


def test_errors_are_cloudwatch_errors(three_nodes_and_router):
    cluster, router = three_nodes_and_router
    client = cloudwatch(router.endpoint)
    start, end = window()
    with pytest.raises(ClientError) as error:
        client.get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="IncomingRecords", StartTime=end, EndTime=start, Period=60,
            Statistics=["Sum"],
        )
    code, message, status = client_error(error)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "StartTime" in message
    with pytest.raises(ClientError) as error:
        client.put_metric_data(Namespace="Mine", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert client_error(error)[0] == "InvalidAction"
    # The process stays up and keeps answering Kinesis calls.
    assert router.client().list_streams()["StreamNames"] is not None


def test_signed_cloudwatch_calls_are_verified_for_service_monitoring(rill_bin, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text(f"{AKID}:{SECRET}\n")
    server = SignedServer(rill_bin, tmp_path, credentials_file=credentials).start()
    try:
        kwargs = dict(endpoint_url=server.endpoint, region_name=REGION, config=Config(retries={"max_attempts": 1}))
        good = boto3.client("cloudwatch", aws_access_key_id=AKID, aws_secret_access_key=SECRET, **kwargs)
        assert good.list_metrics(Namespace="AWS/Kinesis")["Metrics"] == []
        bad = boto3.client("cloudwatch", aws_access_key_id=AKID, aws_secret_access_key="wrong", **kwargs)
        with pytest.raises(ClientError) as error:
            bad.list_metrics(Namespace="AWS/Kinesis")
        assert client_error(error)[0] == "InvalidSignatureException"
    finally:
        server.stop()


def test_a_killed_node_costs_only_its_own_part(rill_bin, tmp_path):
    """Metrics live where they were recorded: after kill -9 of a shard leader, the router still answers at once,
    with every other node's part (the killed node's records are gone with its memory)."""
    cluster = Cluster(rill_bin, tmp_path)
    router = ClusterRouter(rill_bin, tmp_path, cluster.nodes[0].join)
    router.start()
    try:
        cluster.start()
        router.wait_ready()
        kinesis = router.client()
        name = unique_name("killed")
        kinesis.create_stream(StreamName=name, ShardCount=SHARDS)
        wait_active(kinesis, name, timeout=30)
        shards = [shard["ShardId"] for shard in kinesis.list_shards(StreamName=name)["Shards"]]
        leaders = {shard: cluster.leader_of(name, shard) for shard in shards}
        answer = kinesis.put_records(
            StreamName=name, Records=[{"Data": b"r", "PartitionKey": f"key-{i}"} for i in range(60)]
        )
        assert answer["FailedRecordCount"] == 0
        assert {shard: cluster.leader_of(name, shard) for shard in shards} == leaders, "leadership moved"
        client = cloudwatch(router.endpoint)
        assert total(stream_sum(client, name, "IncomingRecords")) == 60
        victim = leaders[shards[0]]
        lost = sum(1 for record in answer["Records"] if leaders[record["ShardId"]] == victim)
        cluster.node(victim).kill()
        started = time.monotonic()
        assert total(stream_sum(client, name, "IncomingRecords")) == 60 - lost
        assert time.monotonic() - started < 5
    finally:
        router.stop()
        cluster.stop()
