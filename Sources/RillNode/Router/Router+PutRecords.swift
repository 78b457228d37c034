import RillKinesis
import RillModel

extension Router {
    /// Splits the records by shard, sends each shard's records to its leader in parallel, and merges the
    /// answers back in request order. A shard whose call fails costs only its own records (InternalFailure
    /// each, as Kinesis reports a record it could not write); the others still count.
    func putRecords(_ request: APIRequest) async throws -> APIResponse {
        guard let split = PutRecordsSplit(request.body) else { return try await unreadable(request) }
        let route = try await route(for: split.selector, region: request.signedRegion)
        var slotsByShard: [ShardID: [Int]] = [:]
        var order: [ShardID] = []
        for (slot, key) in split.hashKeys.enumerated() {
            guard let key, let shard = route.map.shard(for: key) else { return try await unreadable(request) }
            if slotsByShard[shard.id] == nil { order.append(shard.id) }
            slotsByShard[shard.id, default: []].append(slot)
        }
        let streamID = route.stream.id
        // All records on one shard: the request goes as it came.
        if order.count == 1 { return try await forward(request, to: .shard(streamID: streamID, shard: order[0])) }

        var answers: [(slots: [Int], answer: PutRecordsAnswer)] = []
        var failures: [Int: KinesisError] = [:]
        await withTaskGroup(of: ([Int], Result<PutRecordsAnswer, KinesisError>).self) { group in
            for shard in order {
                let slots = slotsByShard[shard] ?? []
                let sub = APIRequest(
                    operation: .putRecords, body: split.subRequest(slots), signedRegion: request.signedRegion,
                    requestID: request.requestID)
                group.addTask {
                    do {
                        let response = try await self.forward(sub, to: .shard(streamID: streamID, shard: shard))
                        guard let answer = PutRecordsAnswer(response.body), answer.results.count == slots.count else {
                            return (slots, .failure(.internalFailure("a node answered PutRecords unreadably")))
                        }
                        return (slots, .success(answer))
                    } catch {
                        return (slots, .failure(error as? KinesisError ?? .internalFailure()))
                    }
                }
            }
            for await (slots, result) in group {
                switch result {
                case .success(let answer): answers.append((slots, answer))
                case .failure(let error): for slot in slots { failures[slot] = error }
                }
            }
        }
        // The same definite error for every record (the stream went away): the whole call fails, as in Kinesis.
        if failures.count == split.records.count, let first = failures.values.first, first.code != .internalFailure,
            failures.values.allSatisfy({ $0.code == first.code })
        {
            throw first
        }
        return PutRecordsAnswer.merged(count: split.records.count, answers: answers, failures: failures)
    }
}
