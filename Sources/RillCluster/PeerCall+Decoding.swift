import RillAPI
import RillKinesis
import RillModel

/// Reading a `PeerCall` from the wire; an unknown kind or version is a `WireError` (an older node answers
/// "unreadable peer request").
extension PeerCall {
    package init(decoding bytes: [UInt8]) throws(WireError) {
        var r = WireReader(bytes)
        let version = try r.u8()
        guard version == Self.version else { throw WireError(description: "peer call version \(version)") }
        let kind = try r.u8()
        switch kind {
        case 1: self = .discover(try r.member(), clusterID: try r.optionalString())
        case 2:
            self = .forward(
                operation: try r.string(),
                signedRegion: try r.optionalString(),
                requestID: try r.string(),
                body: try r.bytes()
            )
        case 8, 12, 13:
            self = .forward(
                operation: try r.string(),
                signedRegion: try r.optionalString(),
                requestID: try r.string(),
                body: try r.bytes(),
                caller: Principal(accessKeyID: try r.optionalString(), secureTransport: try r.u8() == 1),
                cborReply: kind >= 12,
                cborBody: kind == 13
            )
        case 3: self = .append(streamID: try r.string(), shard: try r.u32(), batch: try r.bytes())
        case 4: self = .seal(streamID: try r.string(), shard: try r.u32())
        case 5:
            self = .routes(
                streamName: try r.string(),
                streamARN: try r.optionalString(),
                signedRegion: try r.optionalString()
            )
        case 6:
            let streamID = try r.string()
            let shard = try r.u32()
            let count = Int(try r.u32())
            guard count <= 16 else { throw WireError(description: "\(count) voters") }
            var voters: [UInt64] = []
            for _ in 0..<count { voters.append(try r.u64()) }
            self = .reconfigure(streamID: streamID, shard: shard, voters: voters)
        case 7: self = .proposeCatalog(command: try r.bytes())
        case 9: self = .writeTotals
        case 10: self = .metrics(region: try r.optionalString(), selection: try r.metricSelection())
        case 11:
            self = .forwardOnce(
                operation: try r.string(),
                signedRegion: try r.optionalString(),
                requestID: try r.string(),
                body: try r.bytes(),
                producer: try r.producer(),
                caller: Principal(accessKeyID: try r.optionalString(), secureTransport: try r.u8() == 1)
            )
        case 17: self = .producerWindow(streamID: try r.string(), shard: try r.u32(), sealIndex: try r.u64())
        case 18:
            let count = Int(try r.u32())
            // Each entry takes at least 25 bytes: a count past what the payload holds is damage, not a list.
            guard count <= r.remaining / 25 else { throw WireError(description: "\(count) resting groups") }
            var groups: [RestingGroup] = []
            groups.reserveCapacity(count)
            for _ in 0..<count {
                groups.append(
                    RestingGroup(
                        group: try r.group(),
                        term: Term(try r.u64()),
                        leader: NodeID(try r.u64()),
                        commit: try r.logIndex()
                    )
                )
            }
            self = .restCheck(groups)
        default: throw WireError(description: "unknown peer call \(kind)")
        }
        guard r.isAtEnd else { throw WireError(description: "bytes after a peer call") }
    }
}
