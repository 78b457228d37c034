"""The lab's consumer 2 Lambda function: logs the Kinesis event it is given and each record's decoded data.

Written as the function is written for AWS Lambda (Python runtime, handler `consumer2.lambda_handler`); the run
script maps it to the stream with `rill trigger --handler consumer2.py:lambda_handler`, as the lab adds a
Kinesis trigger to it. What it prints is what CloudWatch Logs would show: here, logs/consumer2.log.
"""

import base64
import json


def lambda_handler(event, context):
    print(json.dumps(event))
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"])
        try:
            data = json.loads(payload)
        except ValueError:
            # Put by something other than the producer (the aws CLI, rill put): log it as text. The lab's consumer
            # would throw here, and Lambda would retry that batch until the record expires, holding up the shard.
            data = payload.decode("utf-8", errors="replace")
        print("consumer #2", json.dumps(data, ensure_ascii=False))
