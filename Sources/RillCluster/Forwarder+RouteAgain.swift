import RillAPI
import RillKinesis
import RillRouting

extension Forwarder {
    /// Sends the records at `slots` of a PutRecords again, once, split by the current shard map (`freshMap`):
    /// their shard's leader refused them as sealed, or as spanning the children of a split led by different
    /// nodes (`ForwardedAppend`), so nothing of them was written and the map they were split by is older than
    /// a reshard. Their answers (or failures) go into `merge` at their slots. Without `freshMap`, or refused
    /// again, they fail with InternalFailure, as a node fails records whose shards keep closing.
    func routeAgain(
        _ slots: [Int],
        of request: APIRequest,
        body: PutRecordsBody,
        streamID: String,
        _ freshMap: (@Sendable () async throws -> ShardMap)?,
        _ merge: inout PutRecordsMerge
    ) async {
        let slots = slots.sorted()
        guard let freshMap else {
            merge.fail(slots, .internalFailure("shards kept closing while records were routed"))
            return
        }
        do {
            let map = try await freshMap()
            let sub = Self.part(slots, of: request, body: body)
            guard let subBody = PutRecordsBody(sub.body, encoding: body.encoding) else {
                merge.fail(slots, .internalFailure("records could not be routed again"))
                return
            }
            let response = try await putRecords(sub, body: subBody, map: map, streamID: streamID)
            guard let answer = PutRecordsAnswer(response.body, encoding: request.replyProtocol),
                answer.results.count == slots.count
            else {
                merge.fail(slots, .internalFailure("a node answered PutRecords unreadably"))
                return
            }
            merge.take(answer, at: slots)
        } catch {
            merge.fail(slots, error as? KinesisError ?? .internalFailure())
        }
    }
}
