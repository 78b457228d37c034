import RillAPI
import RillKinesis
import RillModel

extension TagsService {
    /// The stream (and consumer, for a consumer ARN) a ResourceARN names.
    func resolveResource(
        _ r: inout RequestReader,
        _ namespace: Namespace
    ) throws -> (StreamMetadata, Namespace, ConsumerMetadata?) {
        guard let text = try r.string("ResourceARN", required: true, min: 1, max: 2048, pattern: .resourceARN) else {
            try r.finish()
            throw KinesisError(.invalidArgument, "ResourceARN must be provided.")
        }
        // An ARN outside the model's pattern is a ValidationException, as AWS's front end answers, before
        // any lookup; the caller's later members are not read, so the message names this one alone.
        if !FieldPattern.resourceARN.matches(text) { try r.finish() }
        guard let resource = ResourceARN(parsing: text) else {
            throw KinesisError(.invalidArgument, "Invalid ResourceARN: \(text)")
        }
        let (stream, namespace) = try resolve(
            StreamSelector(name: resource.streamARN.streamName, arn: resource.streamARN),
            namespace
        )
        guard case .consumer(_, let name, let created) = resource else { return (stream, namespace, nil) }
        guard let consumer = stream.consumers?.first(where: { $0.name == name && $0.createdSeconds == created }) else {
            throw KinesisError(.resourceNotFound, "Consumer \(text) not found.")
        }
        return (stream, namespace, consumer)
    }

    func tagResource(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let tags = try r.stringMap("Tags", required: true, min: 1, max: 200) ?? []
        let (stream, namespace, consumer) = try resolveResource(&r, namespace)
        try r.finish()
        try TagRules.validate(tags.map(\.key), values: tags.map(\.value))
        let added = Dictionary(tags.map { ($0.key, $0.value) }, uniquingKeysWith: { _, new in new })
        let existing = consumer?.tags ?? stream.tags
        if existing.merging(added, uniquingKeysWith: { _, new in new }).count > TagRules.maxTagsPerStream {
            throw KinesisError(.limitExceeded, "A resource cannot have more than \(TagRules.maxTagsPerStream) tags.")
        }
        if let consumer {
            try await commit(
                .tagConsumer(
                    namespace: namespace,
                    name: stream.name,
                    consumer: consumer.name,
                    tags: added,
                    removing: []
                )
            )
        } else {
            try await commit(.addTags(namespace: namespace, name: stream.name, tags: added))
        }
        return .empty
    }

    func untagResource(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let keys = try r.tagKeys()
        let (stream, namespace, consumer) = try resolveResource(&r, namespace)
        try r.finish()
        if let consumer {
            try await commit(
                .tagConsumer(
                    namespace: namespace,
                    name: stream.name,
                    consumer: consumer.name,
                    tags: [:],
                    removing: keys
                )
            )
        } else {
            try await commit(.removeTags(namespace: namespace, name: stream.name, keys: keys))
        }
        return .empty
    }

    func listTagsForResource(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let (stream, _, consumer) = try resolveResource(&r, namespace)
        try r.finish()
        var w = JSONWriter()
        w.beginObject()
        w.key("Tags")
        w.beginArray()
        for tag in (consumer?.tags ?? stream.tags).sorted(by: { $0.key < $1.key }) {
            w.beginObject()
            w.key("Key")
            w.string(tag.key)
            w.key("Value")
            w.string(tag.value)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return APIResponse(w)
    }

    func putResourcePolicy(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let policy = try r.string("Policy", required: true)
        let (stream, namespace, consumer) = try resolveResource(&r, namespace)
        try r.finish()
        guard let policy else { throw KinesisError(.invalidArgument, "Policy must be provided.") }
        // Checked as a resource policy now, so what is stored is what the authorizer evaluates.
        do {
            _ = try PolicyDocument(json: policy, isResourcePolicy: true)
        } catch {
            throw KinesisError(.invalidArgument, "Policy is not a valid resource policy: \(error.reason).")
        }
        try await commit(.setPolicy(namespace: namespace, name: stream.name, consumer: consumer?.name, policy: policy))
        return .empty
    }

    func getResourcePolicy(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let (stream, _, consumer) = try resolveResource(&r, namespace)
        try r.finish()
        var w = JSONWriter()
        w.beginObject()
        // With no policy attached, AWS answers an empty policy document rather than an error.
        w.key("Policy")
        w.string((consumer == nil ? stream.policy : consumer?.policy) ?? "{}")
        w.endObject()
        return APIResponse(w)
    }

    func deleteResourcePolicy(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let (stream, namespace, consumer) = try resolveResource(&r, namespace)
        try r.finish()
        let current = consumer == nil ? stream.policy : consumer?.policy
        guard current != nil else {
            throw KinesisError(.resourceNotFound, "No resource policy found for resource.")
        }
        try await commit(.setPolicy(namespace: namespace, name: stream.name, consumer: consumer?.name, policy: nil))
        return .empty
    }
}
