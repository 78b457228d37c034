import RillAPI
import RillKinesis
import RillModel

/// A node's description of itself to peers: who it is, where it listens, and the random nonce its data
/// directory was created with (the cluster UUID is derived from the founders' nonces).
package struct MemberAddress: Codable, Sendable, Hashable {
    package var id: UInt64
    package var zone: String
    /// HOST:PORT of the peer transport.
    package var peer: String
    /// HOST:PORT of the Kinesis API.
    package var api: String
    /// Random per data directory; empty for a router, which never founds a cluster.
    package var nonce: String

    package init(id: UInt64, zone: String, peer: String, api: String, nonce: String) {
        self.id = id
        self.zone = zone
        self.peer = peer
        self.api = api
        self.nonce = nonce
    }
}

/// A request on the RPC channel between nodes. Wire: `u8 version | u8 kind | body` (see `encoded()`).
package enum PeerCall: Sendable, Equatable {
    /// "Who is out there?" — asked by a node without a cluster, or to refresh addresses after a restart.
    case discover(MemberAddress, clusterID: String?)
    /// A whole Kinesis call for the node that must serve it (the metadata or a shard leader): one hop only.
    /// `caller` is who the first node or router verified the signature of; the serving node authorizes that
    /// caller. `cborReply`: the client speaks CBOR and the serving node may write its reply in CBOR
    /// (`PeerAnswer.cborResponse`), which the router passes through untouched (a GetRecords reply then skips a
    /// base64 encoding on the node and a JSON walk and base64 decoding on the router). `cborBody`: `body` is
    /// the client's CBOR, not JSON (a PutRecords the router split byte for byte, `PutRecordsBody`); it implies
    /// `cborReply`. Wire: kind 2 without a caller (as before), kind 8 with one, kind 12 with one and a CBOR
    /// reply allowed, kind 13 as 12 with a CBOR body, so older nodes read what they did (and refuse kinds 12
    /// and 13 as unreadable, which the sender answers by sending the call again in JSON).
    case forward(
        operation: String,
        signedRegion: String?,
        requestID: String,
        body: [UInt8],
        caller: Principal = .anonymous,
        cborReply: Bool = false,
        cborBody: Bool = false
    )
    /// `forward` of an idempotent producer's PutRecord or PutRecords, with its `ProducerStamp` (sent as headers
    /// by the client) and the caller. A separate kind, so plain calls keep their bytes.
    case forwardOnce(
        operation: String,
        signedRegion: String?,
        requestID: String,
        body: [UInt8],
        producer: ProducerStamp,
        caller: Principal = .anonymous
    )
    /// A `records` entry for a shard this node leads; answered once committed.
    case append(streamID: String, shard: UInt32, batch: [UInt8])
    /// The `seal` entry of a reshard, for a shard this node leads.
    case seal(streamID: String, shard: UInt32)
    /// A router asks for a stream's shard map (from the answering node's catalog, possibly a little behind).
    case routes(streamName: String, streamARN: String?, signedRegion: String?)
    /// The controller asks a shard's leader to take the next step toward these voters (a move).
    case reconfigure(streamID: String, shard: UInt32, voters: [UInt64])
    /// A catalog command (JSON) for the metadata leader: membership changes an operator asked any node for, and
    /// a restarted node's barrier (`CatalogCommand.barrier`).
    case proposeCatalog(command: [UInt8])
    /// The controller asks a node what it has written to on-demand shards (`ShardWriteMeter`).
    case writeTotals
    /// A CloudWatch call's part of this node's metrics in one region (docs/metrics.md, "CloudWatch"): any node
    /// or router answering GetMetricStatistics, GetMetricData or ListMetrics asks every node and merges.
    case metrics(region: String?, selection: MetricSelection)
    /// A child shard's leader asks a replica of a sealed parent for the parent's producer window, final at
    /// `sealIndex` (`ProducerWindow.inherit`). Answered `producerWindow` once the replica has applied the seal.
    /// An older node answers it as unreadable; the caller asks the parent's other replicas.
    case producerWindow(streamID: String, shard: UInt32, sealIndex: UInt64)

    package static let version: UInt8 = 1

    /// Whether encoded call `bytes` is one small write: an `append`, or a forwarded PutRecord, of at most
    /// 16 KiB. Such a call mostly waits for its commit, so the transport serves it on its event loop, next to
    /// the group it proposes to; reads and big batches are real work and stay on the global pool.
    package static func isSmallWrite(_ bytes: [UInt8]) -> Bool {
        guard bytes.count <= 16 << 10, bytes.count >= 2, bytes[0] == version else { return false }
        switch bytes[1] {
        case 3: return true
        case 2, 8, 11, 12, 13:
            // `forward`: the operation name comes first, as a u32 length and the UTF-8 bytes.
            let name = Array("PutRecord".utf8)
            let start = 6
            guard bytes.count >= start + name.count else { return false }
            return bytes[2..<start].elementsEqual([0, 0, 0, UInt8(name.count)])
                && bytes[start..<start + name.count].elementsEqual(name)
        default: return false
        }
    }

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
        default: 0
        }
    }

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
        default: throw WireError(description: "unknown peer call \(kind)")
        }
        guard r.isAtEnd else { throw WireError(description: "bytes after a peer call") }
    }
}

/// The answer to a `PeerCall`.
package enum PeerAnswer: Sendable, Equatable {
    /// Discovery: the responder's cluster (nil while forming), its voters, and every node it has heard of.
    case discovered(clusterID: String?, voters: [MemberAddress], known: [MemberAddress])
    /// A forwarded call's successful body.
    case response([UInt8])
    /// A forwarded call's successful body, written in CBOR for a `cborReply` call.
    case cborResponse([UInt8])
    /// A Kinesis error: definite, nothing was written.
    case error(code: String, message: String?)
    case appended(index: UInt64, stampMillis: Int64)
    /// An idempotent producer's batch: each record's position (new, or its first copy's) or error, in order.
    case appendedOnce([Result<RecordPosition, KinesisError>])
    case sealed(index: UInt64)
    /// This node does not lead the group (leader hint attached if known); nothing was proposed, so the caller
    /// may try again elsewhere.
    case notLeader(hint: UInt64?)
    /// The shard was sealed by a reshard before the append; nothing readable was written.
    case shardSealed
    /// The outcome is unknown (leadership lost after proposing): the caller must not retry.
    case indeterminate(String)
    /// A stream's metadata as JSON (`StreamMetadata`), and the key its shard iterators are sealed with, so a
    /// router can route GetRecords by iterator.
    case routes(stream: [UInt8], iteratorKey: [UInt8])
    /// A shard leader's answer to `reconfigure`: whether its committed membership is the target now.
    case reconfiguration(reached: Bool)
    /// Discovery by a node that was removed from this cluster: it must not take part again.
    case removed(clusterID: String)
    /// A node's running write totals of on-demand shards, for the controller's scaling round.
    case writeTotals([ShardWriteMeter.Totals])
    /// This node's metrics for a `metrics` call.
    case metrics(MetricStore)
    /// A sealed shard's final producer window (`ProducerWindow.encoded()`), for `PeerCall.producerWindow`.
    case producerWindow([UInt8])

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
        }
        return w.bytes
    }

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

extension WireWriter {
    package mutating func member(_ member: MemberAddress) {
        u64(member.id)
        string(member.zone)
        string(member.peer)
        string(member.api)
        string(member.nonce)
    }

    package mutating func members(_ members: [MemberAddress]) {
        u32(UInt32(members.count))
        for each in members { member(each) }
    }
}

extension WireReader {
    /// `PeerAnswer.writeTotals`, with counts checked against what the bytes can hold before anything is
    /// allocated.
    package mutating func writeTotals() throws(WireError) -> [ShardWriteMeter.Totals] {
        let count = Int(try u32())
        guard count <= 1_000_000 else { throw WireError(description: "\(count) shard totals") }
        var totals: [ShardWriteMeter.Totals] = []
        for _ in 0..<count {
            let key = ShardWriteMeter.Key(streamID: try string(), shard: try u32())
            let records = try u64()
            let bytes = try u64()
            let samples = Int(try u32())
            guard samples <= ShardWriteMeter.sampleCapacity else { throw WireError(description: "\(samples) samples") }
            var keys: [HashKey] = []
            keys.reserveCapacity(samples)
            for _ in 0..<samples {
                let high = UInt128(try u64())
                keys.append(HashKey(high << 64 | UInt128(try u64())))
            }
            totals.append(.init(key: key, records: records, bytes: bytes, sampledHashKeys: keys))
        }
        return totals
    }

    package mutating func member() throws(WireError) -> MemberAddress {
        MemberAddress(id: try u64(), zone: try string(), peer: try string(), api: try string(), nonce: try string())
    }

    package mutating func members() throws(WireError) -> [MemberAddress] {
        let count = Int(try u32())
        guard count <= 4096 else { throw WireError(description: "\(count) members") }
        var members: [MemberAddress] = []
        for _ in 0..<count { members.append(try member()) }
        return members
    }
}

extension WireWriter {
    package mutating func producer(_ stamp: ProducerStamp) {
        string(stamp.producerID)
        u32(UInt32(stamp.sequences.count))
        for sequence in stamp.sequences { u64(sequence) }
    }
}

extension WireReader {
    package mutating func producer() throws(WireError) -> ProducerStamp {
        let id = try string()
        let count = Int(try u32())
        guard count >= 1, count <= 500 else { throw WireError(description: "\(count) producer sequences") }
        var sequences: [UInt64] = []
        for _ in 0..<count { sequences.append(try u64()) }
        return ProducerStamp(producerID: id, sequences: sequences)
    }
}
