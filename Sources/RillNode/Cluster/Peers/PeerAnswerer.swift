import Foundation
import Logging
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting

/// What a node answers the calls its peers and routers send it (`PeerCall`). The node owns one and hands it to
/// its peer transport as the request handler.
final class PeerAnswerer: Sendable {
    let configuration: NodeConfiguration
    let logger: Logger
    let clock: any WallClock
    let metrics: NodeMetrics
    let metadata: MetadataStore
    /// The cluster this node belongs to; nil for a one-node cluster (whose transport never calls this).
    let cluster: ClusterContext?
    let host: ReplicaHost
    /// Forwarded client calls are served here, as the edge serves them.
    let calls: CallServer
    /// Readiness, for a router's first `routes` call.
    let admin: AdminReport
    let producerWindows: ProducerWindows
    let membership: MembershipController
    let proposals: CatalogProposals
    let scaling: OnDemandRounds
    /// Admits a forwarded batch against the shard's limits on this leader.
    let throughput: ThroughputLimiter

    init(
        configuration: NodeConfiguration,
        logger: Logger,
        clock: any WallClock,
        metrics: NodeMetrics,
        metadata: MetadataStore,
        cluster: ClusterContext?,
        host: ReplicaHost,
        calls: CallServer,
        admin: AdminReport,
        producerWindows: ProducerWindows,
        membership: MembershipController,
        proposals: CatalogProposals,
        scaling: OnDemandRounds,
        throughput: ThroughputLimiter
    ) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        self.metadata = metadata
        self.cluster = cluster
        self.host = host
        self.calls = calls
        self.admin = admin
        self.producerWindows = producerWindows
        self.membership = membership
        self.proposals = proposals
        self.scaling = scaling
        self.throughput = throughput
    }

    /// Answers one request from a peer; never throws (every failure is an answer).
    func answer(_ bytes: [UInt8], from peer: NodeID) async -> [UInt8] {
        let call: PeerCall
        do {
            call = try PeerCall(decoding: bytes)
        } catch {
            logger.warning("unreadable request from a peer", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return PeerAnswer.error(
                code: KinesisErrorCode.internalFailure.rawValue,
                message: Forwarder.unreadableRequest
            ).encoded()
        }
        return await answer(call, from: peer).encoded()
    }

    private func answer(_ call: PeerCall, from peer: NodeID) async -> PeerAnswer {
        switch call {
        case .discover(let member, _):
            guard let cluster else { return .discovered(clusterID: nil, voters: [], known: []) }
            if metadata.catalog.removedMembers.contains(member.id), !member.nonce.isEmpty {
                return .removed(clusterID: cluster.clusterID)
            }
            cluster.learn(member)
            return .discovered(clusterID: cluster.clusterID, voters: cluster.voters, known: cluster.members)
        case .forward(let operation, let signedRegion, let requestID, let body, let caller, _, _),
            .forwardOnce(let operation, let signedRegion, let requestID, let body, _, let caller):
            guard let operation = KinesisOperation(rawValue: operation) else {
                return .error(code: KinesisErrorCode.unknownOperation.rawValue, message: "unknown operation")
            }
            // Authorized where it is served, as the caller the first node or router verified.
            var request = APIRequest(
                operation: operation,
                body: body,
                signedRegion: signedRegion,
                requestID: requestID,
                forwarded: true,
                principal: caller
            )
            if case .forwardOnce(_, _, _, _, let producer, _) = call { request.producer = producer }
            if case .forward(_, _, _, _, _, let cborReply, let cborBody) = call {
                if cborReply { request.replyProtocol = .cbor }
                // The client's CBOR as it came (a PutRecords split by a router): read directly, as at the edge.
                if cborBody { request.bodyEncoding = .cbor }
            }
            // Lines about the call here carry the id its client got from the first node or router.
            return await RequestLogContext.$requestID.withValue(requestID) {
                await Self.answering {
                    let response = try await self.calls.serveHere(request)
                    return response.encoding == .cbor ? .cborResponse(response.body) : .response(response.body)
                }
            }
        case .append(let streamID, let shard, let batch):
            guard let replica = host.localReplica(streamID: streamID, shard: shard) else {
                return .notLeader(hint: nil)
            }
            guard RecordBatch.isWellFormed(batch) else {
                return .error(code: KinesisErrorCode.internalFailure.rawValue, message: "malformed record batch")
            }
            return await Self.answering {
                try await self.admitForwardedBatch(batch, streamID: streamID, replica: replica)
                let stamp = self.clock.nowMillis()
                // An idempotent producer's batch (first byte's top bit): judged against the shard's window.
                if batch.first.map({ $0 & 0x80 != 0 }) == true {
                    return .appendedOnce(
                        try await replica.appendOnce(encoded: batch, stampMillis: stamp) {
                            try await self.producerWindows.parentProducerWindows(streamID: streamID, shard: shard)
                        }
                    )
                }
                let index = try await replica.append(encoded: batch, stampMillis: stamp)
                return .appended(index: index.rawValue, stampMillis: stamp)
            }
        case .producerWindow(let streamID, let shard, let sealIndex):
            return producerWindows.answerProducerWindow(streamID: streamID, shard: shard, sealIndex: sealIndex)
        case .routes(let name, let arn, let region):
            // No stream: a router only wants the iterator key.
            // A router asks this before it says it is ready, so answer only once a stream created now would be
            // placed (and the key exists).
            guard !name.isEmpty else {
                let (ready, reason) = await admin.readiness()
                guard ready else {
                    return .error(code: KinesisErrorCode.limitExceeded.rawValue, message: "not ready: \(reason)")
                }
                return .routes(stream: [], iteratorKey: metadata.catalog.iteratorKey)
            }
            return await Self.answering {
                let selector = StreamSelector(name: name, arn: arn.flatMap(StreamARN.init(parsing:)))
                let namespace = Namespace(
                    account: self.configuration.accountID,
                    region: region ?? self.configuration.defaultRegion
                )
                let (stream, _) = try self.calls.resolve(selector, namespace)
                return .routes(
                    stream: try JSONEncoder().encode(stream).map { $0 },
                    iteratorKey: self.metadata.catalog.iteratorKey
                )
            }
        case .seal(let streamID, let shard):
            guard let replica = host.localReplica(streamID: streamID, shard: shard) else {
                return .notLeader(hint: nil)
            }
            return await Self.answering {
                .sealed(index: try await replica.appendSeal(stampMillis: self.clock.nowMillis()).rawValue)
            }
        case .reconfigure(let streamID, let shard, let voters):
            return await membership.answerReconfigure(streamID: streamID, shard: shard, voters: voters)
        case .proposeCatalog(let command):
            return await proposals.answerProposeCatalog(command)
        case .writeTotals:
            return scaling.answerWriteTotals()
        case .metrics(let region, let selection):
            return .metrics(metrics.cloudWatch.selecting(selection, region: region ?? configuration.defaultRegion))
        case .restCheck(let groups):
            // Read without a hop to any group: a resting group's status waits in its driver.
            let registry = host.registry
            let positions = RestCheck.disagreeing(groups, me: configuration.id) {
                registry.driver(for: $0)?.restingStatus
            }
            return .restCheck(disagreeing: positions.map { UInt32($0) })
        }
    }

    /// Turns the outcome of serving a peer's call into its answer.
    private static func answering(_ body: () async throws -> PeerAnswer) async -> PeerAnswer {
        do {
            return try await body()
        } catch let redirect as Redirect {
            return .notLeader(hint: redirect.hint?.rawValue)
        } catch is ShardReplica.Sealed {
            return .shardSealed
        } catch is ShardSealed {
            return .shardSealed
        } catch let error as KinesisError {
            return .error(code: error.code.rawValue, message: error.message)
        } catch {
            return .indeterminate("\(error)")
        }
    }

    /// Admits, on this leader, a batch another node forwards to be appended whole (`PeerCall.append`): that node
    /// did not lead the shard, so it admitted nothing. All its records, or none (ProvisionedThroughputExceeded,
    /// which the sender's client sees for each of them).
    func admitForwardedBatch(_ batch: [UInt8], streamID: String, replica: ShardReplica) async throws {
        let limiter = throughput
        guard limiter.enabled, let term = await replica.driver.leaderTerm else { return }
        guard let stream = metadata.catalog.allStreams.first(where: { $0.id == streamID }) else { return }
        let records = try RecordBatch(decoding: batch).records
        let lead = ShardLead(term: term.rawValue, newestRecordMillis: replica.newestRecordMillis)
        let sizes = records.map { $0.data.count + $0.partitionKey.utf8.count }
        guard limiter.admitBatch(stream, replica.shard, lead: lead, sizes: sizes) else {
            throw ThroughputLimiter.rateExceeded(replica.shard, stream)
        }
    }
}
