import RillAPI
import RillKinesis
import RillModel

extension ConsumersService {
    /// At most 20 consumers per stream (KINESIS-SEMANTICS §5.5).
    static let maxConsumersPerStream = 20

    func registerConsumer(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let arnText = try r.string("StreamARN", required: true, min: 1, max: 2048, pattern: .streamARN)
        let name = try r.string("ConsumerName", required: true, min: 1, max: 128, pattern: .streamName)
        let tags = try r.stringMap("Tags", min: 1, max: 200)
        try r.finish()
        guard let arnText, let arn = StreamARN(parsing: arnText), let name else {
            throw KinesisError(.invalidArgument, "StreamARN and ConsumerName must be provided.")
        }
        let (stream, namespace) = try resolve(StreamSelector(name: arn.streamName, arn: arn), namespace)
        if let tags { try TagRules.validate(tags.map(\.key), values: tags.map(\.value)) }
        if (stream.consumers?.count ?? 0) >= Self.maxConsumersPerStream {
            throw KinesisError(
                .limitExceeded,
                "Stream \(stream.name) under account \(namespace.account) already has \(Self.maxConsumersPerStream) consumers."
            )
        }
        let created = clock.nowMillis() / 1000
        try await commit(
            .registerConsumer(
                namespace: namespace,
                name: stream.name,
                consumer: name,
                createdSeconds: created,
                tags: Dictionary((tags ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { _, new in new })
            )
        )
        var w = JSONWriter()
        w.beginObject()
        w.key("Consumer")
        writeConsumer(
            ConsumerMetadata(name: name, createdSeconds: created, tags: [:], policy: nil),
            stream: stream,
            status: "CREATING",
            &w
        )
        w.endObject()
        return APIResponse(w)
    }

    /// DescribeStreamConsumer and DeregisterStreamConsumer name a consumer by ARN, or by stream ARN and name.
    func resolveConsumer(
        _ r: inout RequestReader,
        _ namespace: Namespace
    ) throws -> (StreamMetadata, Namespace, ConsumerMetadata) {
        let streamARN = try r.string("StreamARN", min: 1, max: 2048, pattern: .streamARN)
        let name = try r.string("ConsumerName", min: 1, max: 128, pattern: .streamName)
        let consumerARN = try r.string("ConsumerARN", min: 1, max: 2048, pattern: .consumerARN)
        try r.finish()
        if let consumerARN {
            guard case .consumer(let arn, let consumerName, let created)? = ResourceARN(parsing: consumerARN) else {
                throw KinesisError(.invalidArgument, "Invalid ConsumerARN: \(consumerARN)")
            }
            let (stream, namespace) = try resolve(StreamSelector(name: arn.streamName, arn: arn), namespace)
            guard
                let consumer = stream.consumers?.first(where: {
                    $0.name == consumerName && $0.createdSeconds == created
                }),
                name == nil || name == consumerName
            else {
                throw KinesisError(.resourceNotFound, "Consumer \(consumerARN) not found.")
            }
            return (stream, namespace, consumer)
        }
        guard let streamARN, let arn = StreamARN(parsing: streamARN), let name else {
            throw KinesisError(
                .invalidArgument,
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided."
            )
        }
        let (stream, namespace) = try resolve(StreamSelector(name: arn.streamName, arn: arn), namespace)
        guard let consumer = stream.consumers?.first(where: { $0.name == name }) else {
            throw KinesisError(
                .resourceNotFound,
                "Consumer \(name) under stream \(stream.name) under account \(namespace.account) not found."
            )
        }
        return (stream, namespace, consumer)
    }

    func describeConsumer(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let (stream, _, consumer) = try resolveConsumer(&r, namespace)
        var w = JSONWriter()
        w.beginObject()
        w.key("ConsumerDescription")
        writeConsumer(consumer, stream: stream, status: "ACTIVE", includeStream: true, &w)
        w.endObject()
        return APIResponse(w)
    }

    func deregisterConsumer(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let (stream, namespace, consumer) = try resolveConsumer(&r, namespace)
        try await commit(.deregisterConsumer(namespace: namespace, name: stream.name, consumer: consumer.name))
        return .empty
    }

    func listConsumers(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let arnText = try r.string("StreamARN", required: true, min: 1, max: 2048, pattern: .streamARN)
        let token = try r.string("NextToken", min: 1, max: 1_048_576)
        let maxResults = try r.integer("MaxResults", min: 1, max: 10_000)
        _ = try r.timestamp("StreamCreationTimestamp")
        try r.finish()
        guard let arnText, let arn = StreamARN(parsing: arnText) else {
            throw KinesisError(.invalidArgument, "StreamARN must be provided.")
        }
        let (stream, _) = try resolve(StreamSelector(name: arn.streamName, arn: arn), namespace)
        var after: String?
        if let token {
            guard let decoded = PageToken.decode(token, now: clock.nowMillis()) else {
                throw KinesisError(.invalidArgument, "Invalid NextToken.")
            }
            guard case .live(let fields) = decoded, let last = fields.first else {
                throw KinesisError(.expiredNextToken, "The timestamp sent is older than the expiration time.")
            }
            after = last
        }
        let consumers = (stream.consumers ?? []).sorted { $0.name < $1.name }.filter {
            after == nil || $0.name > after!
        }
        let page = consumers.prefix(Int(maxResults ?? 100))
        var w = JSONWriter()
        w.beginObject()
        w.key("Consumers")
        w.beginArray()
        for consumer in page { writeConsumer(consumer, stream: stream, status: "ACTIVE", &w) }
        w.endArray()
        if consumers.count > page.count, let last = page.last {
            w.key("NextToken")
            w.string(PageToken.encode([last.name], now: clock.nowMillis()))
        }
        w.endObject()
        return APIResponse(w)
    }

    func writeConsumer(
        _ consumer: ConsumerMetadata,
        stream: StreamMetadata,
        status: String,
        includeStream: Bool = false,
        _ w: inout JSONWriter
    ) {
        w.beginObject()
        w.key("ConsumerName")
        w.string(consumer.name)
        w.key("ConsumerARN")
        w.string(consumer.arn(streamARN: stream.arn))
        w.key("ConsumerStatus")
        w.string(status)
        w.key("ConsumerCreationTimestamp")
        w.timestamp(millis: consumer.createdSeconds * 1000)
        if includeStream {
            w.key("StreamARN")
            w.string(stream.arn)
        }
        w.endObject()
    }
}
