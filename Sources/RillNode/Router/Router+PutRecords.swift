import RillKinesis
import RillModel

extension Router {
    /// One record of a PutRecords as the router reads it: enough to route it and to send it on unchanged.
    struct PutEntry: Sendable {
        /// Base64 text as the client sent it; the node decodes and checks it.
        var data: String
        var partitionKey: String
        var explicitHashKey: String?
        /// Where the record's object is in the request body, when found by `JSONSlices`: it is then passed on
        /// byte for byte.
        var raw: Range<Int>? = nil
    }

    /// Splits the records by shard, sends each shard's records to its leader in parallel, and merges the
    /// answers back in request order. A shard whose call fails costs only its own records (InternalFailure
    /// each, as Kinesis reports a record it could not write); the others still count.
    func putRecords(_ request: APIRequest) async throws -> APIResponse {
        guard let (entries, selector) = Self.slicePutRecords(request.body) ?? Self.readPutRecords(request.body) else {
            return try await unreadable(request)
        }
        let stream = try await route(for: selector, region: request.signedRegion)
        var slotsByShard: [ShardID: [Int]] = [:]
        var order: [ShardID] = []
        for (slot, entry) in entries.enumerated() {
            guard let key = Self.hashKey(entry.partitionKey, entry.explicitHashKey), let shard = stream.openShard(for: key)
            else { return try await unreadable(request) }
            if slotsByShard[shard.id] == nil { order.append(shard.id) }
            slotsByShard[shard.id, default: []].append(slot)
        }
        // All records on one shard: the request goes as it came.
        if order.count == 1 { return try await forward(request, to: .shard(streamID: stream.id, shard: order[0])) }

        let prefix = entries.allSatisfy({ $0.raw != nil }) ? Self.streamMembers(request.body) : nil
        var merged = [[UInt8]?](repeating: nil, count: entries.count)
        var failures: [Int: KinesisError] = [:]
        var encryption: String?
        await withTaskGroup(of: (ShardID, Result<[[UInt8]], KinesisError>, String?).self) { group in
            for shard in order {
                let slots = slotsByShard[shard] ?? []
                let body = Self.subRequest(entries: slots.map { entries[$0] }, original: request.body, prefix: prefix)
                let sub = APIRequest(
                    operation: .putRecords, body: body, signedRegion: request.signedRegion, requestID: request.requestID)
                group.addTask {
                    do {
                        let response = try await self.forward(sub, to: .shard(streamID: stream.id, shard: shard))
                        guard let (records, type) = Self.readResults(response.body), records.count == slots.count else {
                            return (shard, .failure(.internalFailure("a node answered PutRecords unreadably")), nil)
                        }
                        return (shard, .success(records), type)
                    } catch {
                        return (shard, .failure(error as? KinesisError ?? .internalFailure()), nil)
                    }
                }
            }
            for await (shard, result, type) in group {
                let slots = slotsByShard[shard] ?? []
                switch result {
                case .success(let records):
                    for (slot, record) in zip(slots, records) { merged[slot] = record }
                    encryption = encryption ?? type
                case .failure(let error):
                    for slot in slots { failures[slot] = error }
                }
            }
        }
        // The same definite error for every record (the stream went away): the whole call fails, as in Kinesis.
        if failures.count == entries.count, let first = failures.values.first, first.code != .internalFailure,
            failures.values.allSatisfy({ $0.code == first.code })
        {
            throw first
        }
        return Self.mergedResponse(merged, failures: failures, encryption: encryption)
    }

    static func readPutRecords(_ body: [UInt8]) -> ([PutEntry], StreamSelector)? {
        do {
            var r = try RequestReader(bytes: body)
            guard let items = try r.array("Records"), !items.isEmpty, let selector = try r.streamSelector() else { return nil }
            var entries: [PutEntry] = []
            entries.reserveCapacity(items.count)
            for item in items {
                guard case .object(let object) = item,
                    let data = try r.string("Data", in: object), let key = try r.string("PartitionKey", in: object)
                else { return nil }
                entries.append(PutEntry(data: data, partitionKey: key, explicitHashKey: try r.string("ExplicitHashKey", in: object)))
            }
            return (entries, selector)
        } catch {
            return nil
        }
    }

    /// PutRecords read by byte ranges (`JSONSlices`): keys decoded, record objects left as they are. nil when
    /// the body has anything unexpected; `readPutRecords` then reads it the slow way.
    static func slicePutRecords(_ body: [UInt8]) -> ([PutEntry], StreamSelector)? {
        guard let top = JSONSlices.members(body, in: 0..<body.count) else { return nil }
        var records: [Range<Int>]?
        var name: String?
        var arnText: String?
        for (key, value) in top {
            switch key {
            case "Records": records = JSONSlices.elements(body, in: value)
            case "StreamName": name = JSONSlices.string(body, in: value)
            case "StreamARN": arnText = JSONSlices.string(body, in: value)
            default: return nil
            }
        }
        guard let records, !records.isEmpty else { return nil }
        let arn = arnText.flatMap(StreamARN.init(parsing:))
        if arnText != nil, arn == nil { return nil }
        let selector: StreamSelector
        switch (name, arn) {
        case (let name?, let arn) where arn == nil || arn?.streamName == name: selector = StreamSelector(name: name, arn: arn)
        case (nil, let arn?): selector = StreamSelector(name: arn.streamName, arn: arn)
        default: return nil
        }
        var entries: [PutEntry] = []
        entries.reserveCapacity(records.count)
        for record in records {
            guard let fields = JSONSlices.members(body, in: record) else { return nil }
            var key: String?
            var explicit: String?
            var hasData = false
            for (field, value) in fields {
                switch field {
                case "PartitionKey": key = JSONSlices.string(body, in: value)
                case "ExplicitHashKey": explicit = JSONSlices.string(body, in: value)
                case "Data": hasData = body[value.lowerBound] == UInt8(ascii: "\"")
                default: return nil
                }
            }
            guard let key, hasData else { return nil }
            entries.append(PutEntry(data: "", partitionKey: key, explicitHashKey: explicit, raw: record))
        }
        return (entries, selector)
    }

    /// The PutRecords body for some of the records: the client's stream members, these records (copied byte
    /// for byte when they were sliced).
    static func subRequest(entries: [PutEntry], original: [UInt8], prefix: [UInt8]?) -> [UInt8] {
        if entries.allSatisfy({ $0.raw != nil }), let prefix {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(entries.reduce(prefix.count + 16) { $0 + ($1.raw?.count ?? 0) + 1 })
            bytes += prefix
            bytes += Array("\"Records\":[".utf8)
            for (offset, entry) in entries.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                if let raw = entry.raw { bytes += original[raw] }
            }
            bytes += Array("]}".utf8)
            return bytes
        }
        var r = try? RequestReader(bytes: original)
        let name = try? r?.string("StreamName")
        let arn = try? r?.string("StreamARN")
        var w = JSONWriter(capacity: entries.reduce(64) { $0 + $1.data.utf8.count + $1.partitionKey.utf8.count + 64 })
        w.beginObject()
        if let name { w.key("StreamName"); w.string(name) }
        if let arn { w.key("StreamARN"); w.string(arn) }
        w.key("Records")
        w.beginArray()
        for entry in entries {
            w.beginObject()
            w.key("Data"); w.string(entry.data)
            w.key("PartitionKey"); w.string(entry.partitionKey)
            if let explicit = entry.explicitHashKey { w.key("ExplicitHashKey"); w.string(explicit) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `{"StreamName":…,"StreamARN":…,` as the client wrote them: the top-level members before the records
    /// (the record array is skipped by its brackets, not read).
    static func streamMembers(_ original: [UInt8]) -> [UInt8]? {
        guard let top = JSONSlices.members(original, in: 0..<original.count) else { return nil }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (key, value) in top where key == "StreamName" || key == "StreamARN" {
            bytes += Array("\"\(key)\":".utf8)
            bytes += original[value]
            bytes.append(UInt8(ascii: ","))
        }
        return bytes
    }

    /// Each record result of a node's PutRecords answer, re-encoded, and its EncryptionType.
    static func readResults(_ body: [UInt8]) -> ([[UInt8]], String?)? {
        do {
            var r = try RequestReader(bytes: body)
            guard let items = try r.array("Records") else { return nil }
            var results: [[UInt8]] = []
            results.reserveCapacity(items.count)
            for item in items {
                guard case .object(let object) = item else { return nil }
                var w = JSONWriter(capacity: 96)
                w.beginObject()
                if let value = try r.string("SequenceNumber", in: object) { w.key("SequenceNumber"); w.string(value) }
                if let value = try r.string("ShardId", in: object) { w.key("ShardId"); w.string(value) }
                if let value = try r.string("ErrorCode", in: object) { w.key("ErrorCode"); w.string(value) }
                if let value = try r.string("ErrorMessage", in: object) { w.key("ErrorMessage"); w.string(value) }
                w.endObject()
                results.append(w.bytes)
            }
            return (results, try r.string("EncryptionType"))
        } catch {
            return nil
        }
    }

    static func mergedResponse(_ results: [[UInt8]?], failures: [Int: KinesisError], encryption: String?) -> APIResponse {
        var w = JSONWriter(capacity: 128 * results.count + 64)
        var failed = 0
        w.beginObject()
        w.key("Records")
        w.beginArray()
        for (slot, result) in results.enumerated() {
            if let result {
                if result.starts(with: Array(#"{"ErrorCode""#.utf8)) { failed += 1 }
                w.raw(result)
                continue
            }
            failed += 1
            let error = failures[slot] ?? .internalFailure()
            w.beginObject()
            w.key("ErrorCode"); w.string(error.code == .provisionedThroughputExceeded ? error.code.rawValue : "InternalFailure")
            w.key("ErrorMessage"); w.string(error.message ?? "Internal Service Failure")
            w.endObject()
        }
        w.endArray()
        w.key("FailedRecordCount"); w.int(failed)
        if let encryption { w.key("EncryptionType"); w.string(encryption) }
        w.endObject()
        return APIResponse(w)
    }
}
