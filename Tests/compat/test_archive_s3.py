"""`rill archive --to s3://…` (docs/archive.md): Firehose's S3 destination against moto's S3 server on 127.0.0.1 and a
3-node `rill` cluster. Killed -9 mid-way under continuous puts and restarted, the objects under the Firehose prefix
(with `!{timestamp:…}` and `!{firehose:random-string}` expressions) hold every acknowledged record exactly once, read
back with boto3; a missing bucket stops the archiver with S3's error; an invalid prefix is refused up front with
Firehose's message."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from cluster import Cluster
from conftest import DEFAULT_BIN, create_stream, free_port, make_client, wait_for

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))
KEYS = {"AWS_ACCESS_KEY_ID": "AKIDARCHIVE", "AWS_SECRET_ACCESS_KEY": "archive-secret"}
PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/rand=!{firehose:random-string}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
KEY = re.compile(r"^archive/data/year=(\d{4})/month=(\d{2})/rand=[0-9a-f]{11}/"
                 r"(?P<stream>.+)-1-(\d{4})-(\d{2})-\d{2}-\d{2}-\d{2}-\d{2}-"
                 r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.gz$")


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(BINARY, tmp_path_factory.mktemp("archive-s3-cluster")).start()
    try:
        yield c
    finally:
        c.stop()


def start_archive(endpoint: str, s3_endpoint: str, stream: str, to: str, *args: str,
                  log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BINARY), "archive", "--endpoint", endpoint, "--stream", stream, "--group", "to-s3",
                             "--to", to, "--s3-endpoint", s3_endpoint, "--report-interval", "1", *args],
                            env={**os.environ, **KEYS}, stdout=open(str(log) + ".out", "ab"),
                            stderr=open(log, "ab"))


def keys_under(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def lines_in(s3, bucket: str, keys: list[str]) -> list[str]:
    out = []
    for key in keys:
        out += gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode().splitlines()
    return out


class Writer:
    """Puts numbered records with boto3 until stopped (bounded); keeps the data of every acknowledged one."""

    def __init__(self, kinesis, stream: str):
        self.kinesis, self.stream = kinesis, stream
        self.sent: set[str] = set()
        self.acked: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        n = 0
        while not self.stopping.is_set() and n < 100_000:
            batch = [f"rec-{n + i:07d}" for i in range(25)]
            n += len(batch)
            self.sent.update(batch)
            try:
                answer = self.kinesis.put_records(StreamName=self.stream, Records=[
                    {"Data": data.encode(), "PartitionKey": f"k{i % 11}"} for i, data in enumerate(batch)])
            except Exception:  # an unacknowledged batch is not expected in the archive
                continue
            self.acked += [data for data, result in zip(batch, answer["Records"]) if "SequenceNumber" in result]


def test_kill_9_mid_way_to_s3_archives_every_record_once(cluster, s3, s3_endpoint, tmp_path):
    kinesis = make_client(cluster.nodes[0].endpoint)
    bucket = "rill-archive"
    s3.create_bucket(Bucket=bucket)
    stream = create_stream(kinesis, shards=2)
    log = tmp_path / "archive.log"
    args = ("--worker-id", "archiver-1", "--buffer-interval", "1", "--buffer-size", "1", "--newline-delimiter",
            "--compression", "GZIP", "--prefix", PREFIX, "--error-output-prefix", ERROR_PREFIX)
    to, archiver_endpoint = f"s3://{bucket}/archive", cluster.nodes[1].endpoint
    writer = Writer(kinesis, stream)
    writer.thread.start()
    proc = start_archive(archiver_endpoint, s3_endpoint, stream, to, *args, log=log)
    try:
        wait_for(lambda: len(keys_under(s3, bucket, "archive/data/")) >= 3, 90, "three objects in the bucket")
        proc.kill()
        proc.wait(timeout=10)
        proc = start_archive(archiver_endpoint, s3_endpoint, stream, to, *args, log=log)
        wait_for(lambda: len(writer.acked) > 1000, 60, "a thousand acknowledged records")
        writer.stopping.set()
        writer.thread.join(timeout=30)
        acked = set(writer.acked)
        wait_for(lambda: acked <= set(lines_in(s3, bucket, keys_under(s3, bucket, "archive/data/"))), 90,
                 "every acknowledged record archived")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        writer.stopping.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    text = log.read_text()
    keys = keys_under(s3, bucket, "archive/")
    for key in keys:
        match = KEY.match(key)
        assert match, f"{key} is not named as Firehose names objects under {PREFIX}"
        assert match.group("stream") == stream
        # The prefix's timestamp and the name's are the same instant: the oldest record's arrival.
        assert match.group(1, 2) == match.group(4, 5), key
    archived = lines_in(s3, bucket, keys)
    twice = [line for line, count in Counter(archived).items() if count > 1]
    assert not twice, f"{len(twice)} records archived twice, e.g. {twice[:5]}"
    assert acked <= set(archived)
    # A record whose PutRecords answer was lost may be archived without being acknowledged; nothing else may.
    assert set(archived) <= writer.sent
    assert not keys_under(s3, bucket, "archive/errors/"), "no object should have gone to the error output"
    assert "lease taken" in text and "stopped:" in text
    assert f"archiving to s3://{bucket}/archive/" in text


def test_a_missing_bucket_stops_the_archiver_with_s3s_error(cluster, s3_endpoint, tmp_path):
    kinesis = make_client(cluster.nodes[0].endpoint)
    stream = create_stream(kinesis, shards=1)
    kinesis.put_record(StreamName=stream, Data=b"to nowhere\n", PartitionKey="k")
    log = tmp_path / "archive.log"
    proc = start_archive(cluster.nodes[0].endpoint, s3_endpoint, stream, "s3://no-such-bucket-here",
                         "--buffer-interval", "0", log=log)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError("rill archive kept running against a missing bucket\n" + log.read_text())
    text = log.read_text()
    assert code != 0, text
    assert "NoSuchBucket" in text and "PUT /no-such-bucket-here/" in text, text


@pytest.mark.parametrize("prefix, error_prefix, message", [
    ("x/!{timestamp:yyyy}/", None,
     "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"),
    ("x/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}",
     "Prefix can't contain !{firehose:error-output-type}"),
    ("x/", "e/!{timestamp:yyyy}/",
     "ErrorOutputPrefix must contain at least one instance of !{firehose:error-output-type}"),
    ("x/!{nope}/", None, "The sequence !{ can only appear in !{namespace:value} expressions"),
])
def test_an_invalid_prefix_is_refused_up_front_with_firehoses_message(prefix, error_prefix, message, tmp_path):
    args = [str(BINARY), "archive", "--endpoint", "http://127.0.0.1:9", "--stream", "s", "--group", "g",
            "--to", "s3://some-bucket", "--s3-endpoint", "http://127.0.0.1:9", "--prefix", prefix]
    if error_prefix:
        args += ["--error-output-prefix", error_prefix]
    proc = subprocess.run(args, env={**os.environ, **KEYS}, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "The supplied prefix(es) do not satisfy the following constraint: " + message in proc.stderr, proc.stderr
