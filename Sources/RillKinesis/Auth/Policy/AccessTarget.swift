/// What a call acts on, for authorization: read from the request body before any service runs, with the
/// lenience of a peek (a member of the wrong type reads as absent, and the service refuses the call later
/// with the proper error). Pure.
///
/// AWS authorizes each Kinesis action on one resource (the Service Authorization Reference for Kinesis): the
/// stream for stream and record calls, the consumer for SubscribeToShard and the consumer calls, the ARN
/// given for the tag and policy calls, and `*` for account-wide calls (ListStreams, DescribeLimits, account
/// settings).
public enum AccessTarget: Sendable, Equatable {
    /// No particular resource: the account.
    case account
    /// A stream, by name, ARN, or both.
    case stream(StreamSelector)
    /// A consumer by its ARN.
    case consumer(stream: StreamARN, name: String, createdSeconds: Int64)
    /// A consumer by its stream and name (DescribeStreamConsumer, DeregisterStreamConsumer with StreamARN).
    case consumerNamed(stream: StreamSelector, name: String)
    /// GetRecords: the stream its (sealed) shard iterator names; the node opens it with the iterator key.
    case iterator(String)
    /// ListShards continued by NextToken alone: the stream the token names (`[name, region, shard]`).
    case pageToken(String)

    public static func of(_ operation: KinesisOperation, body: JSONObject) -> AccessTarget {
        func string(_ key: String) -> String? {
            if case .string(let text)? = body[key] { return text }
            return nil
        }
        func stream() -> AccessTarget {
            if let text = string("StreamARN"), let arn = StreamARN(parsing: text) {
                return .stream(StreamSelector(name: arn.streamName, arn: arn))
            }
            if let name = string("StreamName") { return .stream(StreamSelector(name: name)) }
            return .account
        }
        func consumer() -> AccessTarget {
            if let text = string("ConsumerARN"),
                case .consumer(let arn, let name, let created)? = ResourceARN(
                    parsing: text
                )
            {
                return .consumer(stream: arn, name: name, createdSeconds: created)
            }
            if let name = string("ConsumerName"), case .stream(let selector) = stream() {
                return .consumerNamed(stream: selector, name: name)
            }
            return stream()
        }
        switch operation {
        case .listStreams, .describeLimits, .describeAccountSettings, .updateAccountSettings:
            return .account
        case .subscribeToShard, .describeStreamConsumer, .deregisterStreamConsumer:
            return consumer()
        case .getRecords:
            if let token = string("ShardIterator") { return .iterator(token) }
            return stream()
        case .listShards:
            if string("StreamName") == nil, string("StreamARN") == nil, let token = string("NextToken") {
                return .pageToken(token)
            }
            return stream()
        case .tagResource, .untagResource, .listTagsForResource, .putResourcePolicy, .getResourcePolicy,
            .deleteResourcePolicy:
            switch string("ResourceARN").flatMap(ResourceARN.init(parsing:)) {
            case .stream(let arn)?: return .stream(StreamSelector(name: arn.streamName, arn: arn))
            case .consumer(let arn, let name, let created)?:
                return .consumer(stream: arn, name: name, createdSeconds: created)
            case nil: return .account
            }
        default:
            return stream()
        }
    }
}
