import RillKinesis
import RillModel

extension Router {
    /// Splits the records by shard (`PutRecordsSplit`, as a node does), sends each shard's records to its
    /// leader in parallel, and merges the answers back in request order with `PutRecordsMerge`, so a client
    /// gets the answer a node would give: per-record errors, and a whole-call error only for a request that
    /// is invalid as a whole. Such a request is sent whole to one node, whose answer names the error.
    func putRecords(_ request: APIRequest) async throws -> APIResponse {
        guard let body = PutRecordsBody(request.body) else { return try await unreadable(request) }
        let route = try await route(for: body.selector, region: request.signedRegion)
        guard !body.isSurelyRefused(maxRecordBytes: route.stream.maxRecordSizeKiB * 1024) else {
            return try await unreadable(request)
        }
        let split = try PutRecordsSplit(hashKeys: body.hashKeys.compactMap { $0 }, map: route.map)
        let streamID = route.stream.id
        var merge = PutRecordsMerge(count: body.count)
        // All records on one shard: the request goes as it came, and the node's answer is the client's.
        if split.parts.count == 1 {
            let group = RaftGroupID.shard(streamID: streamID, shard: split.parts[0].shard.id)
            do {
                return try await forward(request, to: group)
            } catch {
                // Anything but a KinesisError (a shard sealed under the call) leaves the records unwritten or
                // unknown: InternalFailure each.
                merge.fail(split.parts[0].slots, error as? KinesisError ?? .internalFailure())
                return APIResponse(body: try merge.answer())
            }
        }
        await withTaskGroup(of: (slots: [Int], Result<PutRecordsAnswer, KinesisError>).self) { group in
            for part in split.parts {
                let sub = APIRequest(
                    operation: .putRecords, body: body.subRequest(part.slots), signedRegion: request.signedRegion,
                    requestID: request.requestID)
                group.addTask {
                    do {
                        let response = try await self.forward(sub, to: .shard(streamID: streamID, shard: part.shard.id))
                        guard let answer = PutRecordsAnswer(response.body), answer.results.count == part.slots.count else {
                            return (part.slots, .failure(.internalFailure("a node answered PutRecords unreadably")))
                        }
                        return (part.slots, .success(answer))
                    } catch {
                        // Anything but a KinesisError is a bug here; the records' outcome is unknown.
                        return (part.slots, .failure(error as? KinesisError ?? .internalFailure()))
                    }
                }
            }
            for await (slots, result) in group {
                switch result {
                case .success(let answer):
                    for (slot, result) in zip(slots, answer.results) {
                        merge.set(slot, .result(answer.body[result.range], failed: result.failed))
                    }
                    merge.encryptionType = merge.encryptionType ?? answer.encryptionType
                case .failure(let error):
                    merge.fail(slots, error)
                }
            }
        }
        return APIResponse(body: try merge.answer())
    }
}

/// A node's answer to the part of a PutRecords the router sent it, its record results left as byte ranges
/// of the node's body: they go into the client's answer unchanged (the node writes compact JSON).
struct PutRecordsAnswer: Sendable {
    let body: [UInt8]
    /// Each record's result object, in the order the records were sent, and whether it is an error.
    let results: [(range: Range<Int>, failed: Bool)]
    let encryptionType: String?

    init?(_ body: [UInt8]) {
        guard let top = JSONSlices.members(body, in: 0..<body.count),
            let records = top.first(where: { $0.key == "Records" }).flatMap({ JSONSlices.elements(body, in: $0.value) })
        else { return nil }
        var results: [(range: Range<Int>, failed: Bool)] = []
        results.reserveCapacity(records.count)
        for record in records {
            var error = false
            let readable = JSONSlices.forEachMember(body, in: record) { key, _ in
                if JSONSlices.key(body, at: key, is: "ErrorCode") { error = true }
                return true
            }
            guard readable else { return nil }
            results.append((record, error))
        }
        self.body = body
        self.results = results
        self.encryptionType = top.first(where: { $0.key == "EncryptionType" }).flatMap { JSONSlices.string(body, in: $0.value) }
    }
}
