import Foundation
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillRouting

/// What a node answers the calls its peers and routers send it (`PeerCall`).
extension Node {
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
        return await answer(call).encoded()
    }

    private func answer(_ call: PeerCall) async -> PeerAnswer {
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
                    let response = try await self.serveHere(request)
                    return response.encoding == .cbor ? .cborResponse(response.body) : .response(response.body)
                }
            }
        case .append(let streamID, let shard, let batch):
            guard let replica = localReplica(streamID: streamID, shard: shard) else { return .notLeader(hint: nil) }
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
                            try await self.parentProducerWindows(streamID: streamID, shard: shard)
                        }
                    )
                }
                let index = try await replica.append(encoded: batch, stampMillis: stamp)
                return .appended(index: index.rawValue, stampMillis: stamp)
            }
        case .producerWindow(let streamID, let shard, let sealIndex):
            return answerProducerWindow(streamID: streamID, shard: shard, sealIndex: sealIndex)
        case .routes(let name, let arn, let region):
            // No stream: a router only wants the iterator key.
            // A router asks this before it says it is ready, so answer only once a stream created now would be
            // placed (and the key exists).
            guard !name.isEmpty else {
                let (ready, reason) = await readiness()
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
                let (stream, _) = try self.resolve(selector, namespace)
                return .routes(
                    stream: try JSONEncoder().encode(stream).map { $0 },
                    iteratorKey: self.metadata.catalog.iteratorKey
                )
            }
        case .seal(let streamID, let shard):
            guard let replica = localReplica(streamID: streamID, shard: shard) else { return .notLeader(hint: nil) }
            return await Self.answering {
                .sealed(index: try await replica.appendSeal(stampMillis: self.clock.nowMillis()).rawValue)
            }
        case .reconfigure(let streamID, let shard, let voters):
            return await answerReconfigure(streamID: streamID, shard: shard, voters: voters)
        case .proposeCatalog(let command):
            return await answerProposeCatalog(command)
        case .writeTotals:
            return answerWriteTotals()
        case .metrics(let region, let selection):
            return .metrics(metrics.cloudWatch.selecting(selection, region: region ?? configuration.defaultRegion))
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
}
