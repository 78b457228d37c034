import RillAPI
import RillKinesis
import RillModel

extension TagsService {
    func addTags(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let tags = try r.stringMap("Tags", required: true, min: 1, max: 200)
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        let pairs = tags ?? []
        try TagRules.validate(pairs.map(\.key), values: pairs.map(\.value))
        let merged = stream.tags.merging(pairs.map { ($0.key, $0.value) }) { _, new in new }
        if merged.count > TagRules.maxTagsPerStream {
            throw KinesisError(
                .limitExceeded,
                "Failed to add tags to stream \(stream.name) under account \(namespace.account) because a given stream "
                    + "cannot have more than \(TagRules.maxTagsPerStream) tags."
            )
        }
        try await commit(
            .addTags(
                namespace: namespace,
                name: stream.name,
                tags: Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, new in new })
            )
        )
        return .empty
    }

    func removeTags(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let keys = try r.tagKeys()
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        try TagRules.validate(keys, values: [])
        try await commit(.removeTags(namespace: namespace, name: stream.name, keys: keys))
        return .empty
    }

    func listTags(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let exclusiveStart = try r.string("ExclusiveStartTagKey", min: 1, max: 128)
        let limit = try r.integer("Limit", min: 1, max: 50)
        let selector = try r.requireStream()
        let (stream, _) = try resolve(selector, namespace)
        let sorted = stream.tags.sorted { $0.key < $1.key }.filter { exclusiveStart == nil || $0.key > exclusiveStart! }
        let page = sorted.prefix(Int(limit ?? 50))
        var w = JSONWriter()
        w.beginObject()
        w.key("Tags")
        w.beginArray()
        for tag in page {
            w.beginObject()
            w.key("Key")
            w.string(tag.key)
            w.key("Value")
            w.string(tag.value)
            w.endObject()
        }
        w.endArray()
        w.key("HasMoreTags")
        w.bool(sorted.count > page.count)
        w.endObject()
        return APIResponse(w)
    }
}
