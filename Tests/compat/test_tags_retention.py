"""Stream tags and retention (KINESIS-SEMANTICS 5.3, 5.6)."""

import pytest
from botocore.exceptions import ClientError

from conftest import (
    client_error,
    create_stream,
    expect_error,
    not_found_message,
    stream_arn,
    unique_name,
)

INVALID_TAGS = ("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, "
                "_ . / = + - % @.")


def _tags(kinesis, name, **kw):
    resp = kinesis.list_tags_for_stream(StreamName=name, **kw)
    return resp


def _all_tags(kinesis, name):
    resp = _tags(kinesis, name)
    assert resp["HasMoreTags"] is False
    return {t["Key"]: t.get("Value", "") for t in resp["Tags"]}


# ---------------------------------------------------------------- tags


def test_new_stream_has_no_tags(kinesis, stream):
    resp = _tags(kinesis, stream)
    assert resp["Tags"] == []
    assert resp["HasMoreTags"] is False


def test_add_list_overwrite_remove_tags(kinesis, stream):
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"env": "test", "team": "rill", "empty": ""})
    assert _all_tags(kinesis, stream) == {"env": "test", "team": "rill", "empty": ""}
    # Same key overwrites.
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"env": "prod"})
    assert _all_tags(kinesis, stream) == {"env": "prod", "team": "rill", "empty": ""}
    # Removing, including a key that is not there (no-op).
    kinesis.remove_tags_from_stream(StreamName=stream, TagKeys=["team", "absent"])
    assert _all_tags(kinesis, stream) == {"env": "prod", "empty": ""}
    kinesis.remove_tags_from_stream(StreamName=stream, TagKeys=["env", "empty"])
    assert _all_tags(kinesis, stream) == {}


def test_tags_by_arn(kinesis, stream):
    arn = stream_arn(stream)
    kinesis.add_tags_to_stream(StreamARN=arn, Tags={"k": "v"})
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    kinesis.remove_tags_from_stream(StreamARN=arn, TagKeys=["k"])
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == []


def test_tags_on_create_stream(kinesis):
    name = unique_name("tagged")
    create_stream(kinesis, name, shards=1, Tags={"created": "with-tags"})
    assert _all_tags(kinesis, name) == {"created": "with-tags"}


def test_list_tags_pagination(kinesis, stream):
    tags = {f"key-{i:02d}": f"value-{i}" for i in range(7)}
    kinesis.add_tags_to_stream(StreamName=stream, Tags=tags)
    keys = sorted(tags)

    resp = _tags(kinesis, stream, Limit=3)
    assert [t["Key"] for t in resp["Tags"]] == keys[:3]
    assert resp["HasMoreTags"] is True
    collected = list(resp["Tags"])
    while resp["HasMoreTags"]:
        resp = _tags(kinesis, stream, Limit=3, ExclusiveStartTagKey=collected[-1]["Key"])
        assert 1 <= len(resp["Tags"]) <= 3
        collected += resp["Tags"]
        assert len(collected) <= 7
    assert [t["Key"] for t in collected] == keys
    assert {t["Key"]: t["Value"] for t in collected} == tags

    resp = _tags(kinesis, stream, ExclusiveStartTagKey="key-04")
    assert [t["Key"] for t in resp["Tags"]] == keys[5:]
    assert resp["HasMoreTags"] is False
    resp = _tags(kinesis, stream, Limit=7)
    assert len(resp["Tags"]) == 7 and resp["HasMoreTags"] is False


def test_unicode_and_allowed_punctuation_in_tags(kinesis, stream):
    # The characters of the AddTagsToStream error text (TagResource docs also list ':'; not relied on here).
    tags = {"ключ": "значение", "a b": "c d", "x_./=+-@%": "v_./=+-@%", "日本": "語", "k9": "123"}
    kinesis.add_tags_to_stream(StreamName=stream, Tags=tags)
    assert _all_tags(kinesis, stream) == tags


@pytest.mark.parametrize("tags", [{"bad*key": "v"}, {"k": "bad<value>"}, {"semi;colon": "v"}])
def test_invalid_tag_characters(kinesis, stream, tags):
    expect_error(kinesis.add_tags_to_stream, "InvalidArgumentException", INVALID_TAGS, StreamName=stream, Tags=tags)
    assert _all_tags(kinesis, stream) == {}


def test_list_tags_limit_above_50(kinesis, stream):
    expect_error(kinesis.list_tags_for_stream, "ValidationException",
                 "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
                 "Member must have value less than or equal to 50",
                 StreamName=stream, Limit=51)


def test_at_most_50_tags_per_stream(kinesis, stream):
    kinesis.add_tags_to_stream(StreamName=stream, Tags={f"a{i:02d}": "v" for i in range(30)})
    kinesis.add_tags_to_stream(StreamName=stream, Tags={f"b{i:02d}": "v" for i in range(20)})
    assert len(_tags(kinesis, stream, Limit=50)["Tags"]) == 50
    # Overwriting an existing key does not add a tag.
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"a00": "new"})
    with pytest.raises(ClientError) as ei:
        kinesis.add_tags_to_stream(StreamName=stream, Tags={"c00": "v"})
    code, msg, status = client_error(ei)
    assert status == 400 and code in ("LimitExceededException", "InvalidArgumentException"), (code, msg)
    tags = _all_tags(kinesis, stream)
    assert len(tags) == 50 and "c00" not in tags and tags["a00"] == "new"


def test_aws_prefix_is_reserved(kinesis, stream):
    with pytest.raises(ClientError) as ei:
        kinesis.add_tags_to_stream(StreamName=stream, Tags={"aws:owner": "me"})
    code, msg, status = client_error(ei)
    assert (code, status) == ("InvalidArgumentException", 400), msg
    assert _all_tags(kinesis, stream) == {}


def test_tags_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.add_tags_to_stream, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, Tags={"a": "b"})
    expect_error(kinesis.list_tags_for_stream, "ResourceNotFoundException", not_found_message(name), StreamName=name)
    expect_error(kinesis.remove_tags_from_stream, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, TagKeys=["a"])


# ---------------------------------------------------------------- retention


def _retention(kinesis, name):
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"]


def test_retention_increase_and_decrease(kinesis, stream):
    assert _retention(kinesis, stream) == 24
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=48)
    assert _retention(kinesis, stream) == 48
    assert kinesis.describe_stream(StreamName=stream)["StreamDescription"]["RetentionPeriodHours"] == 48
    # Equal is accepted.
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=48)
    assert _retention(kinesis, stream) == 48
    kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=30)
    assert _retention(kinesis, stream) == 30
    kinesis.increase_stream_retention_period(StreamARN=stream_arn(stream), RetentionPeriodHours=8760)
    assert _retention(kinesis, stream) == 8760
    kinesis.decrease_stream_retention_period(StreamARN=stream_arn(stream), RetentionPeriodHours=24)
    assert _retention(kinesis, stream) == 24


def test_retention_increase_to_shorter(kinesis, stream):
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=72)
    expect_error(kinesis.increase_stream_retention_period, "InvalidArgumentException",
                 f"Requested retention period (48 hours) for stream {stream} can not be shorter than existing "
                 "retention period (72 hours). Use DecreaseRetentionPeriod API.",
                 StreamName=stream, RetentionPeriodHours=48)
    assert _retention(kinesis, stream) == 72


def test_retention_decrease_to_longer(kinesis, stream):
    expect_error(kinesis.decrease_stream_retention_period, "InvalidArgumentException",
                 f"Requested retention period (48 hours) for stream {stream} can not be longer than existing "
                 "retention period (24 hours). Use IncreaseRetentionPeriod API.",
                 StreamName=stream, RetentionPeriodHours=48)
    assert _retention(kinesis, stream) == 24


def test_retention_below_minimum(kinesis, stream):
    expect_error(kinesis.decrease_stream_retention_period, "InvalidArgumentException",
                 "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.",
                 StreamName=stream, RetentionPeriodHours=12)
    assert _retention(kinesis, stream) == 24


def test_retention_increase_below_minimum(kinesis, stream):
    with pytest.raises(ClientError) as ei:
        kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=12)
    code, msg, status = client_error(ei)
    assert (code, status) == ("InvalidArgumentException", 400), msg
    assert _retention(kinesis, stream) == 24


def test_retention_above_maximum(kinesis, stream):
    with pytest.raises(ClientError) as ei:
        kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=8761)
    code, msg, status = client_error(ei)
    assert (code, status) == ("InvalidArgumentException", 400), msg
    assert _retention(kinesis, stream) == 24


def test_retention_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.increase_stream_retention_period, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, RetentionPeriodHours=48)
    expect_error(kinesis.decrease_stream_retention_period, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, RetentionPeriodHours=24)
