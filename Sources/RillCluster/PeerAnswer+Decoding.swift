import RillAPI
import RillKinesis
import RillModel

/// Reading a `PeerAnswer` from the wire.
extension PeerAnswer {
    package init(decoding bytes: [UInt8]) throws(WireError) {
        var r = WireReader(bytes)
        let version = try r.u8()
        guard version == PeerCall.version else { throw WireError(description: "peer answer version \(version)") }
        switch try r.u8() {
        case 1: self = .discovered(clusterID: try r.optionalString(), voters: try r.members(), known: try r.members())
        case 2: self = .response(try r.bytes())
        case 15: self = .cborResponse(try r.bytes())
        case 3: self = .error(code: try r.string(), message: try r.optionalString())
        case 4: self = .appended(index: try r.u64(), stampMillis: try r.i64())
        case 5: self = .sealed(index: try r.u64())
        case 6:
            let hint = try r.u64()
            self = .notLeader(hint: hint == 0 ? nil : hint)
        case 7: self = .shardSealed
        case 8: self = .indeterminate(try r.string())
        case 9: self = .routes(stream: try r.bytes(), iteratorKey: try r.bytes())
        case 10: self = .reconfiguration(reached: try r.u8() == 1)
        case 11: self = .removed(clusterID: try r.string())
        case 12: self = .writeTotals(try r.writeTotals())
        case 13: self = .metrics(try r.metricStore())
        case 17: self = .producerWindow(try r.bytes())
        case 18:
            let count = Int(try r.u32())
            guard count <= r.remaining / 4 else { throw WireError(description: "\(count) disagreeing groups") }
            var positions: [UInt32] = []
            positions.reserveCapacity(count)
            for _ in 0..<count { positions.append(try r.u32()) }
            self = .restCheck(disagreeing: positions)
        case 14:
            let count = Int(try r.u32())
            guard count <= 500 else { throw WireError(description: "\(count) record outcomes") }
            var outcomes: [Result<RecordPosition, KinesisError>] = []
            for _ in 0..<count {
                let tag = try r.u8()
                if tag == 1 || tag == 2 {
                    let origin = tag == 2 ? ShardOrigin(index: try r.u32(), epoch: try r.u64()) : nil
                    if let origin, origin.epoch > SequenceNumber.maxEpoch {
                        throw WireError(description: "epoch \(origin.epoch)")
                    }
                    let index = LogIndex(try r.u64())
                    let slot = try r.u32()
                    guard slot <= UInt32(UInt16.max) else { throw WireError(description: "slot \(slot)") }
                    outcomes.append(
                        .success(
                            RecordPosition(index: index, slot: UInt16(slot), stampMillis: try r.i64(), origin: origin)
                        )
                    )
                } else {
                    let code = try r.string()
                    let message = try r.optionalString()
                    outcomes.append(
                        .failure(KinesisError(KinesisErrorCode(rawValue: code) ?? .internalFailure, message))
                    )
                }
            }
            self = .appendedOnce(outcomes)
        case let kind: throw WireError(description: "unknown peer answer \(kind)")
        }
        guard r.isAtEnd else { throw WireError(description: "bytes after a peer answer") }
    }
}
