import RillAPI
import RillKinesis
import RillModel
import RillRouting

extension Forwarder {
    /// Splits a PutRecords by shard (`PutRecordsSplit`, as a node does), sends each shard's records to its
    /// leader in parallel as a PutRecords of their own, and merges the answers back in request order with
    /// `PutRecordsMerge`, so the client gets the answer a node would give: per-record errors, and a whole-call
    /// error only for a request that is invalid as a whole. The caller sends such a request whole instead
    /// (`PutRecordsBody.isSurelyRefused`). Record objects travel byte for byte (`PutRecordsBody.subRequest`), in
    /// the client's encoding, and so do the leaders' per-record results back into the answer, which is written
    /// in the encoding the client reads.
    package func putRecords(
        _ request: APIRequest,
        body: PutRecordsBody,
        map: ShardMap,
        streamID: String,
        freshMap: (@Sendable () async throws -> ShardMap)? = nil
    ) async throws -> APIResponse {
        let split = try PutRecordsSplit(hashKeys: body.hashKeys.compactMap { $0 }, map: map)
        let reply = request.replyProtocol
        var merge = PutRecordsMerge(count: body.count, encoding: reply)
        // All records on one shard: the request goes as it came, and the node's answer is the client's.
        if split.parts.count == 1 {
            let group = RaftGroupID.shard(streamID: streamID, shard: split.parts[0].shard.id)
            do {
                return try await forward(request, toLeaderOf: group)
            } catch is ShardSealed where freshMap != nil {
                // Nothing was written: `map` is older than a reshard (`ForwardedAppend`). Split again by the new one.
                await routeAgain(
                    split.parts[0].slots,
                    refused: [split.parts[0].shard.id],
                    of: request,
                    body: body,
                    streamID: streamID,
                    freshMap,
                    &merge
                )
                return APIResponse(body: try merge.answer(), encoding: reply)
            } catch {
                // Anything but a KinesisError (a shard sealed under the call) leaves the records unwritten or
                // unknown: InternalFailure each.
                merge.fail(split.parts[0].slots, error as? KinesisError ?? .internalFailure())
                return APIResponse(body: try merge.answer(), encoding: reply)
            }
        }
        let parts = split.parts.map { (shard: $0.shard, slots: $0.slots) }
        let refusal = await send(parts, of: request, body: body, streamID: streamID, into: &merge)
        if !refusal.slots.isEmpty {
            await routeAgain(
                refusal.slots,
                refused: refusal.shards,
                of: request,
                body: body,
                streamID: streamID,
                freshMap,
                &merge
            )
        }
        return APIResponse(body: try merge.answer(), encoding: reply)
    }

    /// The records a node refused as sealed (nothing of them written), and the shards they were sent to.
    struct SealedRefusal {
        var slots: [Int] = []
        var shards: Set<ShardID> = []
    }

    /// Sends each part's records (slots of `request`) to its shard's leader in parallel, as a PutRecords of
    /// their own, and puts the answers into `merge`; returns what was refused as sealed, which is not merged.
    func send(
        _ parts: [(shard: ShardMetadata, slots: [Int])],
        of request: APIRequest,
        body: PutRecordsBody,
        streamID: String,
        into merge: inout PutRecordsMerge
    ) async -> SealedRefusal {
        let reply = request.replyProtocol
        var refusal = SealedRefusal()
        typealias Part = (shard: ShardMetadata, slots: [Int])
        await withTaskGroup(of: (part: Part, Result<PutRecordsAnswer, KinesisError>?).self) { group in
            for part in parts {
                let sub = Self.part(part.slots, of: request, body: body)
                group.addTask {
                    do {
                        let response = try await self.forward(
                            sub,
                            toLeaderOf: .shard(streamID: streamID, shard: part.shard.id)
                        )
                        // A leader older than CBOR PutRecords answers a CBOR client's part in JSON: transcoded.
                        let answerBody =
                            response.encoding == reply ? response.body : try reply.responseBody(response.body)
                        guard let answer = PutRecordsAnswer(answerBody, encoding: reply),
                            answer.results.count == part.slots.count
                        else {
                            return (part, .failure(.internalFailure("a node answered PutRecords unreadably")))
                        }
                        return (part, .success(answer))
                    } catch is ShardSealed {
                        return (part, nil)
                    } catch {
                        // Anything but a KinesisError is a bug here; the records' outcome is unknown.
                        return (part, .failure(error as? KinesisError ?? .internalFailure()))
                    }
                }
            }
            for await (part, result) in group {
                switch result {
                case .success(let answer):
                    merge.take(answer, at: part.slots)
                case .failure(let error):
                    merge.fail(part.slots, error)
                case nil:
                    refusal.slots += part.slots
                    refusal.shards.insert(part.shard.id)
                }
            }
        }
        return refusal
    }

    /// The PutRecords of the records at `slots` alone, in the client's encodings (the body as it came, the answer
    /// as it asked), each record with its producer sequence (checked against the record count before the split).
    static func part(_ slots: [Int], of request: APIRequest, body: PutRecordsBody) -> APIRequest {
        var sub = APIRequest(
            operation: .putRecords,
            body: body.subRequest(slots),
            signedRegion: request.signedRegion,
            requestID: request.requestID,
            replyProtocol: request.replyProtocol,
            bodyEncoding: body.encoding,
            principal: request.principal
        )
        sub.producer = request.producer?.subset(slots)
        return sub
    }
}
