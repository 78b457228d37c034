"""One PutRecords rule for nodes and routers (issue 15): the same partially failing request, sent through the
router and straight to a node, gets the same answer. Each record fails alone (ErrorCode and ErrorMessage,
counted in FailedRecordCount); the call as a whole fails only when the request as a whole is invalid.

A shard is made unreachable from the entry point with the `/admin/faults` hooks (docs/chaos.md): the entry
node and the router both cut their links to the shard's leader, which keeps leading it with the third node.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from cluster import cluster_with_router

STREAM = "answers"
SHARDS = 3


@pytest.fixture(scope="module")
def setup(rill_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("put-records-answers")
    with cluster_with_router(rill_bin, tmp, extra=["--fault-injection"]) as both:
        yield both


def post_faults(member, command: dict) -> dict:
    request = urllib.request.Request(member.endpoint + "/admin/faults", data=json.dumps(command).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def shape(answer: dict) -> tuple[int, list[tuple[str, str]]]:
    """What a client acts on: the failed count and, per record, its shard or its error code."""
    return answer["FailedRecordCount"], [("ok", r["ShardId"]) if "SequenceNumber" in r else ("error", r["ErrorCode"])
                                         for r in answer["Records"]]


def records_for(shards: list[dict], per_shard: int) -> list[dict]:
    """Records interleaved over `shards`, `per_shard` each, by explicit hash keys inside each range."""
    records = []
    for i in range(per_shard):
        for shard in shards:
            low = int(shard["HashKeyRange"]["StartingHashKey"])
            records.append({"Data": f"{shard['ShardId']}-{i}".encode(), "PartitionKey": f"k{i}",
                            "ExplicitHashKey": str(low + 1 + i)})
    return records


def error_code(call) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return failed.value.response["Error"]["Code"]


def test_the_same_put_records_gets_the_same_answer_through_the_router_and_a_node(setup):
    cluster, router = setup
    admin = router.client()
    admin.create_stream(StreamName=STREAM, ShardCount=SHARDS)
    admin.get_waiter("stream_exists").wait(StreamName=STREAM, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    shards = sorted(admin.list_shards(StreamName=STREAM)["Shards"], key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    # One shard per leader, so cutting one leader off costs exactly one shard's records.
    deadline = time.monotonic() + 20
    while True:
        leaders = {s["ShardId"]: cluster.leader_of(STREAM, s["ShardId"]) for s in shards}
        if len(set(leaders.values())) == SHARDS:
            break
        assert time.monotonic() < deadline, f"shard leaders never spread over the nodes: {leaders}"
        time.sleep(0.1)
    unreachable = shards[0]
    victim = leaders[unreachable["ShardId"]]
    entry = cluster.node(next(n for n in (1, 2, 3) if n != victim))
    # Writes work from both doors before the fault.
    for member in (router, entry):
        assert shape(member.client().put_records(StreamName=STREAM, Records=records_for(shards, 2)))[0] == 0

    post_faults(entry, {"isolate": [victim]})
    post_faults(router, {"isolate": [victim]})
    try:
        answers = {}
        for name, member in (("router", router), (f"node-{entry.node_id}", entry)):
            client = member.client(retries={"max_attempts": 0}, read_timeout=30)
            mixed = client.put_records(StreamName=STREAM, Records=records_for(shards, 3))
            # Only one shard's records: still an answer per record, not a failed call.
            alone = client.put_records(StreamName=STREAM, Records=records_for([unreachable], 3))
            # Invalid as a whole (a 257-character key, or 501 records): refused before anything is written.
            invalid = records_for(shards, 2)
            invalid[-1]["PartitionKey"] = "k" * 257
            too_long = error_code(lambda: client.put_records(StreamName=STREAM, Records=invalid))
            too_many = error_code(lambda: client.put_records(StreamName=STREAM, Records=records_for(shards, 167)))
            answers[name] = (shape(mixed), shape(alone), too_long, too_many)
    finally:
        for member in (entry, router):
            post_faults(member, {"heal": True})

    print(f"shard leaders {leaders}, {unreachable['ShardId']} unreachable from node {entry.node_id} and the router;"
          f" answers {answers}")
    router_answers, node_answers = answers.values()
    assert router_answers == node_answers
    (failed, results), (failed_alone, results_alone), too_long, too_many = router_answers
    expected = [("error", "InternalFailure") if i % SHARDS == 0 else ("ok", shards[i % SHARDS]["ShardId"])
                for i in range(3 * SHARDS)]
    assert (failed, results) == (3, expected)
    assert (failed_alone, results_alone) == (3, [("error", "InternalFailure")] * 3)
    assert (too_long, too_many) == ("ValidationException", "ValidationException")
    # The invalid requests wrote nothing: each shard holds the 2 + 2 records written before the fault and the 3 + 3
    # of the mixed calls (the unreachable shard none of those).
    counts = {}
    for shard in shards:
        iterator = admin.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        counts[shard["ShardId"]] = len(admin.get_records(ShardIterator=iterator, Limit=1000)["Records"])
    assert counts == {s["ShardId"]: 4 if s is unreachable else 10 for s in shards}, counts
