import RillChaos
import RillKinesis

/// Turns the reply to one PutRecords or PutRecord call into one write event per record.
///
/// Pure, so the rules can be tested on canned replies: an acknowledgement needs both `ShardId` and
/// `SequenceNumber`; a Kinesis error is definite or indeterminate by `WriteOutcome.forError`; a call that
/// never connected was not sent (definite); a timeout, a broken connection or an unreadable reply is
/// indeterminate.
enum WriteClassifier {
    /// Events for `ids`, written in one call in this order, given what the call came to.
    static func events(
        for ids: [String],
        result: KinesisResult,
        time: Double,
        process: Int,
        batched: Bool
    ) -> [HistoryEvent] {
        switch result {
        case .failed(let failure):
            return ids.map { id in
                switch failure {
                case .notConnected:
                    // No connection, no request: the record cannot have been written.
                    .write(WriteEvent(time: time, process: process, id: id, outcome: .fail, error: failure.label))
                case .timedOut, .connectionLost:
                    .write(WriteEvent(time: time, process: process, id: id, outcome: .info, error: failure.label))
                }
            }
        case .error(let code, _):
            return ids.map { .write(.failed(time: time, process: process, id: $0, error: code)) }
        case .ok(let reply):
            return batched
                ? batchEvents(ids, reply: reply, time: time, process: process)
                : [singleEvent(ids[0], reply: reply, time: time, process: process)]
        }
    }

    private static func singleEvent(_ id: String, reply: JSONObject, time: Double, process: Int) -> HistoryEvent {
        guard let shard = reply.string("ShardId"),
            let sequence = reply.string("SequenceNumber").flatMap(DecimalSequenceNumber.init)
        else {
            return .write(WriteEvent(time: time, process: process, id: id, outcome: .info, error: "malformed reply"))
        }
        return .write(.acknowledged(time: time, process: process, id: id, shard: shard, sequence: sequence))
    }

    /// PutRecords answers per record, in request order; a reply of the wrong length says nothing reliable
    /// about any record, so all of them become indeterminate.
    private static func batchEvents(_ ids: [String], reply: JSONObject, time: Double, process: Int) -> [HistoryEvent] {
        guard let results = reply.array("Records"), results.count == ids.count else {
            return ids.map {
                .write(WriteEvent(time: time, process: process, id: $0, outcome: .info, error: "malformed reply"))
            }
        }
        return zip(ids, results).map { id, value in
            guard case .object(let result) = value else {
                return .write(
                    WriteEvent(time: time, process: process, id: id, outcome: .info, error: "malformed reply")
                )
            }
            if let code = result.string("ErrorCode") {
                return .write(.failed(time: time, process: process, id: id, error: code))
            }
            return singleEvent(id, reply: result, time: time, process: process)
        }
    }
}
