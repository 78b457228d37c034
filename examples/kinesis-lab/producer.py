"""The lab's producer Lambda function: an S3 upload event in, the uploaded text file's lines into the stream.

Written as the function is written for AWS Lambda (Python runtime, handler `producer.lambda_handler`); `watcher.py`
invokes it as S3's event notification invokes it there. One line differs from the AWS version, in
`read_object`: the bucket is the lab's `inbox/` folder, so the object is read from there rather than with
`s3.get_object`. The Kinesis client is boto3's, unchanged; the run script points it at Rill through
`AWS_ENDPOINT_URL_KINESIS`, which boto3 reads as it reads any AWS configuration.

The lab's own producer (Node.js) puts the whole file as one record, `{"data": <the file's text>}`, keyed by the
object key. This one puts one record per line, `{"data": <the line>}`, keyed the same way: a file over Kinesis's
1 MiB record limit still goes in, every line of a file lands on one shard in order, and the Firehose archive ends
up with one JSON object per line.
"""

import json
import os
import time
import urllib.parse

import boto3

STREAM_NAME = os.environ.get("STREAM_NAME", "whiz-data-stream")
# The folder standing in for the S3 bucket (set by the run script).
BUCKET_DIR = os.environ.get("LAB_BUCKET_DIR", "inbox")

# PutRecords takes at most 500 records and 5 MiB a call; one record (data and key) is at most 1 MiB.
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024
MAX_ATTEMPTS = 8

# Made once per execution environment, as on Lambda, and reused by every invocation.
kinesis = boto3.client("kinesis")


def lambda_handler(event, context):
    print(json.dumps(event))
    written = 0
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        # Keys arrive URL-encoded in S3 events (a space is "+").
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        # Node's Buffer.toString(), which the lab's producer uses, also replaces bytes that are not UTF-8.
        text = read_object(bucket, key).decode("utf-8", errors="replace")
        written += put_lines(text.splitlines(), partition_key=key[:256])
    return {"statusCode": 200, "records": written}


def read_object(bucket, key):
    """The object's bytes. On AWS: `boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()`."""
    root = os.path.realpath(BUCKET_DIR)
    path = os.path.realpath(os.path.join(root, key))
    if os.path.commonpath([root, path]) != root:
        raise ValueError(f"key {key!r} is outside bucket {bucket}")
    with open(path, "rb") as body:
        return body.read()


def put_lines(lines, partition_key):
    """Puts each line as a record, in PutRecords calls of at most 500 records and 5 MiB; returns how many."""
    entries = []
    for number, line in enumerate(lines, start=1):
        data = json.dumps({"data": line}).encode("utf-8")
        if len(data) + len(partition_key.encode("utf-8")) > MAX_RECORD_BYTES:
            raise ValueError(f"line {number} of {partition_key} is over Kinesis's 1 MiB record limit")
        entries.append({"Data": data, "PartitionKey": partition_key})
    batch, size = [], 0
    for entry in entries:
        entry_size = len(entry["Data"]) + len(entry["PartitionKey"].encode("utf-8"))
        if batch and (len(batch) == MAX_BATCH_RECORDS or size + entry_size > MAX_BATCH_BYTES):
            put_batch(batch)
            batch, size = [], 0
        batch.append(entry)
        size += entry_size
    if batch:
        put_batch(batch)
    return len(entries)


def put_batch(entries):
    """One PutRecords call, then the records it failed (throttled, InternalFailure) again with backoff.

    Retried records may land after later lines of the same file (PutRecords writes what it can); a batch still
    failing after MAX_ATTEMPTS fails the invocation, which S3's asynchronous invocation then retries.
    """
    pending = entries
    for attempt in range(1, MAX_ATTEMPTS + 1):
        response = kinesis.put_records(StreamName=STREAM_NAME, Records=pending)
        written = [r for r in response["Records"] if "SequenceNumber" in r]
        if written:
            print(json.dumps({
                "put": len(written), "PartitionKey": entries[0]["PartitionKey"], "ShardId": written[0]["ShardId"],
                "FirstSequenceNumber": written[0]["SequenceNumber"],
                "LastSequenceNumber": written[-1]["SequenceNumber"],
                "EncryptionType": response.get("EncryptionType", "NONE"), "attempt": attempt,
            }))
        if response["FailedRecordCount"] == 0:
            return
        failed = [(entry, r) for entry, r in zip(pending, response["Records"]) if "ErrorCode" in r]
        pending = [entry for entry, _ in failed]
        print(json.dumps({"failed": len(pending), "ErrorCode": failed[0][1]["ErrorCode"],
                          "ErrorMessage": failed[0][1].get("ErrorMessage", ""), "attempt": attempt}))
        time.sleep(min(2.0, 0.1 * 2 ** (attempt - 1)))
    raise RuntimeError(f"{len(pending)} records still failed after {MAX_ATTEMPTS} attempts")
