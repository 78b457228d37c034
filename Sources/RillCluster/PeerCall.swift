import RillAPI
import RillKinesis
import RillModel

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

    /// The groups that rest on the calling node and that the answering node also holds, as leader or as the
    /// leader the caller follows (`RestCheck`): the answer (`restCheck`) names those the answering node's
    /// replicas disagree with, which then wake on the caller. An older node answers it as unreadable, and the
    /// caller wakes every group it sent, as its resting leaders did each second before.
    case restCheck([RestingGroup])

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

}
