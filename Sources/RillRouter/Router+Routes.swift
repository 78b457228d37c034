import Foundation
import RillCluster
import RillKinesis
import RillModel
import RillRouting
import RillTransport

/// A stream as a client names it: the same name in two regions is two streams.
struct RouteKey: Hashable, Sendable {
    var name: String
    var region: String?
}

/// A stream's shard map as some node's catalog had it.
struct StreamRoute: Sendable {
    var stream: StreamMetadata
    /// The open shards' ranges, parsed once per fetch rather than per record.
    var map: ShardMap
    var fetched: ContinuousClock.Instant

    init(_ stream: StreamMetadata, fetched: ContinuousClock.Instant) {
        self.stream = stream
        self.map = ShardMap(stream)
        self.fetched = fetched
    }
}

extension Router {
    /// How long a shard map is trusted before it is fetched again (a reshard elsewhere also invalidates it).
    static let routeLifetime: Duration = .seconds(10)

    /// The stream's shard map, fetched from the metadata leader (or any node) when missing or old.
    func route(for selector: StreamSelector, region: String?) async throws -> StreamRoute {
        let key = RouteKey(name: selector.name, region: selector.arn?.region ?? region)
        if let cached = routes.withLock({ $0[key] }), cached.fetched.duration(to: .now) < Self.routeLifetime {
            return cached
        }
        let call = PeerCall.routes(
            streamName: selector.name,
            streamARN: selector.arn?.description,
            signedRegion: region
        )
        let stream = try await forwarder.untilServed(.meta) { target -> StreamMetadata? in
            guard let outcome = try await self.readingFromLeader(call, at: target) else { return nil }
            switch outcome {
            case .notDelivered: return nil
            case .answered(.routes(let bytes, let key)):
                self.iteratorKey.withLock { $0 = key }
                return try JSONDecoder().decode(StreamMetadata.self, from: Data(bytes))
            case .answered(let other): throw Forwarder.failure(other, from: target)
            }
        }
        let route = StreamRoute(stream, fetched: .now)
        routes.withLock { $0[key] = route }
        return route
    }

    /// Forgets a stream's shard map, so the next call fetches it again.
    func forgetRoute(_ selector: StreamSelector, region: String?) {
        _ = routes.withLock {
            $0.removeValue(forKey: RouteKey(name: selector.name, region: selector.arn?.region ?? region))
        }
    }

    /// The cluster's iterator key, asked of any node the first time.
    func currentIteratorKey() async throws -> [UInt8] {
        if let key = iteratorKey.withLock({ $0 }) { return key }
        let call = PeerCall.routes(streamName: "", streamARN: nil, signedRegion: nil)
        let key = try await forwarder.untilServed(.meta) { target -> [UInt8]? in
            guard let outcome = try await self.readingFromLeader(call, at: target) else { return nil }
            switch outcome {
            case .notDelivered: return nil
            case .answered(.routes(_, let key)): return key
            case .answered(let other): throw Forwarder.failure(other, from: target)
            }
        }
        iteratorKey.withLock { $0 = key }
        return key
    }

    /// Sends a read (`routes`) to `target` as the metadata leader; nil when the board saw its term end while
    /// the call waited (`Forwarder.watchingLeadership`): a read changes nothing, so the caller may ask
    /// elsewhere at once rather than wait out the call timeout on a paused leader.
    private func readingFromLeader(_ call: PeerCall, at target: NodeID) async throws -> PeerOutcome? {
        let abandonment = RequestAbandonment()
        do {
            return try await forwarder.watchingLeadership(of: .meta, at: target, with: abandonment) { abandonment in
                try await forwarder.send(call, to: target, abandonment: abandonment)
            }
        } catch  where abandonment.isAbandoned {
            return nil
        }
    }
}
