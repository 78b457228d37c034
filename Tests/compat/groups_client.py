"""A client of Rill's consumer-group API (docs/consumers.md): JSON 1.1 bodies under the
`RillConsumerGroups_20261206.` target prefix, SigV4-signed for the `kinesis` service and sent with botocore's
own signer and HTTP session, as any AWS tool would. No AWS SDK has a model of this API, so this is the client."""

from __future__ import annotations

import json
from typing import Optional

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

PREFIX = "RillConsumerGroups_20261206."


class GroupError(Exception):
    """An error answer: HTTP status, the Kinesis `__type` and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class GroupsClient:
    def __init__(self, endpoint: str, region: str = "us-east-1", access_key: str = "AKIDEXAMPLE",
                 secret: str = "secret", timeout: float = 20.0):
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.credentials = Credentials(access_key, secret)
        self.session = URLLib3Session(timeout=timeout)

    def call(self, operation: str, **body) -> dict:
        data = json.dumps(body).encode()
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=data, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": PREFIX + operation,
        })
        SigV4Auth(self.credentials, "kinesis", self.region).add_auth(request)
        response = self.session.send(request.prepare())
        payload = json.loads(response.content) if response.content else {}
        if response.status_code != 200:
            raise GroupError(response.status_code, payload.get("__type", ""), payload.get("message", ""))
        return payload

    # One method per operation, named as the API names them.

    def create_group(self, stream: str, group: str, failover_ms: Optional[int] = None,
                     position: Optional[dict] = None) -> dict:
        body: dict = {"StreamName": stream, "GroupName": group}
        if failover_ms is not None:
            body["FailoverTimeMillis"] = failover_ms
        if position is not None:
            body["InitialPosition"] = position
        return self.call("CreateConsumerGroup", **body)["ConsumerGroup"]

    def describe_group(self, stream: str, group: str) -> dict:
        return self.call("DescribeConsumerGroup", StreamName=stream, GroupName=group)["ConsumerGroup"]

    def list_groups(self, stream: str) -> list[dict]:
        return self.call("ListConsumerGroups", StreamName=stream)["ConsumerGroups"]

    def delete_group(self, stream: str, group: str) -> None:
        self.call("DeleteConsumerGroup", StreamName=stream, GroupName=group)

    def acquire(self, stream: str, group: str, worker: str) -> list[dict]:
        return self.call("AcquireLeases", StreamName=stream, GroupName=group, WorkerId=worker)["Leases"]

    def renew(self, stream: str, group: str, worker: str, shard: str, token: int) -> dict:
        return self.call("RenewLease", StreamName=stream, GroupName=group, WorkerId=worker, ShardId=shard,
                         LeaseToken=token)["Lease"]

    def release(self, stream: str, group: str, worker: str, shard: str, token: int) -> None:
        self.call("ReleaseLease", StreamName=stream, GroupName=group, WorkerId=worker, ShardId=shard,
                  LeaseToken=token)

    def checkpoint(self, stream: str, group: str, worker: str, shard: str, token: int,
                   sequence: Optional[str] = None, sub_sequence: int = 0, shard_end: bool = False) -> dict:
        body: dict = {"StreamName": stream, "GroupName": group, "WorkerId": worker, "ShardId": shard,
                      "LeaseToken": token}
        if shard_end:
            body["ShardEnd"] = True
        else:
            body["SequenceNumber"] = sequence
            body["SubSequenceNumber"] = sub_sequence
        return self.call("Checkpoint", **body)["Lease"]
