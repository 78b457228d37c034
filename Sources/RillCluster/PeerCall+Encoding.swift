import RillAPI
import RillKinesis
import RillModel

/// How a `PeerCall` goes on the wire: `u8 version | u8 kind | body`.
extension PeerCall {
    package func encoded() -> [UInt8] {
        // Sized up front: a forwarded PutRecords or an append batch is up to megabytes.
        var w = WireWriter(capacity: 64 + payloadSize)
        w.u8(Self.version)
        switch self {
        case .discover(let me, let clusterID):
            w.u8(1)
            w.member(me)
            w.optionalString(clusterID)
        case .forward(let operation, let signedRegion, let requestID, let body, let caller, let cborReply, let cborBody):
            w.u8(cborBody ? 13 : cborReply ? 12 : caller == .anonymous ? 2 : 8)
            w.string(operation)
            w.optionalString(signedRegion)
            w.string(requestID)
            w.bytes(body)
            if caller != .anonymous || cborReply || cborBody {
                w.optionalString(caller.accessKeyID)
                w.u8(caller.secureTransport ? 1 : 0)
            }
        case .forwardOnce(let operation, let signedRegion, let requestID, let body, let producer, let caller):
            w.u8(11)
            w.string(operation)
            w.optionalString(signedRegion)
            w.string(requestID)
            w.bytes(body)
            w.producer(producer)
            w.optionalString(caller.accessKeyID)
            w.u8(caller.secureTransport ? 1 : 0)
        case .append(let streamID, let shard, let batch):
            w.u8(3)
            w.string(streamID)
            w.u32(shard)
            w.bytes(batch)
        case .seal(let streamID, let shard):
            w.u8(4)
            w.string(streamID)
            w.u32(shard)
        case .routes(let name, let arn, let region):
            w.u8(5)
            w.string(name)
            w.optionalString(arn)
            w.optionalString(region)
        case .reconfigure(let streamID, let shard, let voters):
            w.u8(6)
            w.string(streamID)
            w.u32(shard)
            w.u32(UInt32(voters.count))
            for voter in voters { w.u64(voter) }
        case .proposeCatalog(let command):
            w.u8(7)
            w.bytes(command)
        case .writeTotals:
            w.u8(9)
        case .metrics(let region, let selection):
            w.u8(10)
            w.optionalString(region)
            w.metricSelection(selection)
        case .producerWindow(let streamID, let shard, let sealIndex):
            w.u8(17)
            w.string(streamID)
            w.u32(shard)
            w.u64(sealIndex)
        case .restCheck(let groups):
            w.u8(18)
            w.u32(UInt32(groups.count))
            for entry in groups {
                w.group(entry.group)
                w.u64(entry.term.rawValue)
                w.u64(entry.leader.rawValue)
                w.u64(entry.commit.rawValue)
            }
        }
        return w.bytes
    }

    private var payloadSize: Int {
        switch self {
        case .forward(let operation, _, let requestID, let body, let caller, _, _):
            operation.utf8.count + requestID.utf8.count + body.count + (caller.accessKeyID?.utf8.count ?? 0) + 40
        case .forwardOnce(let operation, _, let requestID, let body, let producer, let caller):
            operation.utf8.count + requestID.utf8.count + body.count + (caller.accessKeyID?.utf8.count ?? 0) + 72
                + 8 * producer.sequences.count
        case .append(let streamID, _, let batch): streamID.utf8.count + batch.count
        case .restCheck(let groups): groups.count * 64
        default: 0
        }
    }

}
