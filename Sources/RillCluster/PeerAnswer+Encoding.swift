import RillAPI
import RillKinesis
import RillModel

/// How a `PeerAnswer` goes on the wire: `u8 version | u8 kind | body`.
extension PeerAnswer {
    package func encoded() -> [UInt8] {
        var w = WireWriter(
            capacity: 32
                + {
                    switch self {
                    case .response(let body), .cborResponse(let body), .producerWindow(let body): body.count
                    default: 0
                    }
                }()
        )
        w.u8(PeerCall.version)
        switch self {
        case .discovered(let clusterID, let voters, let known):
            w.u8(1)
            w.optionalString(clusterID)
            w.members(voters)
            w.members(known)
        case .response(let body):
            w.u8(2)
            w.bytes(body)
        case .cborResponse(let body):
            w.u8(15)
            w.bytes(body)
        case .error(let code, let message):
            w.u8(3)
            w.string(code)
            w.optionalString(message)
        case .appended(let index, let stamp):
            w.u8(4)
            w.u64(index)
            w.i64(stamp)
        case .appendedOnce(let outcomes):
            w.u8(14)
            w.u32(UInt32(outcomes.count))
            for outcome in outcomes {
                switch outcome {
                case .success(let position):
                    // 2: stored by a parent shard (a retry after a reshard), its shard first. Only such an answer
                    // uses it, so older nodes read every other answer as before.
                    if let origin = position.origin {
                        w.u8(2)
                        w.u32(origin.index)
                        w.u64(origin.epoch)
                    } else {
                        w.u8(1)
                    }
                    w.u64(position.index.rawValue)
                    w.u32(UInt32(position.slot))
                    w.i64(position.stampMillis)
                case .failure(let error):
                    w.u8(0)
                    w.string(error.code.rawValue)
                    w.optionalString(error.message)
                }
            }
        case .sealed(let index):
            w.u8(5)
            w.u64(index)
        case .notLeader(let hint):
            w.u8(6)
            w.u64(hint ?? 0)
        case .shardSealed:
            w.u8(7)
        case .indeterminate(let reason):
            w.u8(8)
            w.string(reason)
        case .routes(let stream, let key):
            w.u8(9)
            w.bytes(stream)
            w.bytes(key)
        case .reconfiguration(let reached):
            w.u8(10)
            w.u8(reached ? 1 : 0)
        case .removed(let clusterID):
            w.u8(11)
            w.string(clusterID)
        case .writeTotals(let totals):
            w.u8(12)
            w.u32(UInt32(totals.count))
            for total in totals {
                w.string(total.key.streamID)
                w.u32(total.key.shard)
                w.u64(total.records)
                w.u64(total.bytes)
                w.u32(UInt32(total.sampledHashKeys.count))
                for key in total.sampledHashKeys {
                    w.u64(UInt64(truncatingIfNeeded: key.rawValue >> 64))
                    w.u64(UInt64(truncatingIfNeeded: key.rawValue))
                }
            }
        case .metrics(let store):
            w.u8(13)
            w.metricStore(store)
        case .producerWindow(let window):
            w.u8(17)
            w.bytes(window)
        case .restCheck(let positions):
            w.u8(18)
            w.u32(UInt32(positions.count))
            for position in positions { w.u32(position) }
        }
        return w.bytes
    }

}
