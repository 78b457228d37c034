import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRouting

extension Router {
    /// Serves one call by sending it to the node that must serve it.
    public func handle(_ request: APIRequest) async throws -> APIResponse {
        // A PutRecords is split in the client's encoding (`putRecords`); every other call is routed by its
        // JSON, and nodes are sent JSON.
        let request = request.operation == .putRecords ? request : try request.inJSON()
        switch request.operation {
        case .putRecord: return try await putRecord(request)
        case .putRecords: return try await putRecords(request)
        case .getShardIterator: return try await getShardIterator(request)
        case .getRecords: return try await getRecords(request)
        default: return try await forward(request, to: .meta)
        }
    }

    /// A request the router cannot read goes to the metadata leader whole, whose answer is the right error.
    func unreadable(_ request: APIRequest) async throws -> APIResponse {
        try await forward(request, to: .meta)
    }

    private func putRecord(_ request: APIRequest) async throws -> APIResponse {
        guard let (partitionKey, explicit, selector) = Self.recordKey(request.body),
            let shard = try await shard(for: partitionKey, explicit, selector, request.signedRegion)
        else { return try await unreadable(request) }
        do {
            return try await forward(request, to: shard)
        } catch is ShardSealed {
            // Nothing was written: the shard closed under a reshard this router's map does not show yet. Routed
            // again, once, by a fresh map that shows it closed (`Forwarder.settledMap`), rather than waiting out
            // the map's lifetime.
            if case .shard(_, let refused) = shard {
                let region = request.signedRegion
                _ = try await forwarder.settledMap(closing: [refused]) {
                    self.forgetRoute(selector, region: region)
                    return try await self.route(for: selector, region: region).map
                }
            }
            guard let fresh = try await self.shard(for: partitionKey, explicit, selector, request.signedRegion) else {
                return try await unreadable(request)
            }
            return try await forward(request, to: fresh)
        }
    }

    private func getShardIterator(_ request: APIRequest) async throws -> APIResponse {
        guard var r = try? RequestReader(bytes: request.body),
            let shardText = try? r.string("ShardId"), let shardID = ShardID(parsing: shardText),
            let selector = try? r.streamSelector()
        else { return try await unreadable(request) }
        let stream = try await route(for: selector, region: request.signedRegion).stream
        return try await forward(request, to: .shard(streamID: stream.id, shard: shardID))
    }

    private func getRecords(_ request: APIRequest) async throws -> APIResponse {
        guard var r = try? RequestReader(bytes: request.body), let token = try? r.string("ShardIterator") else {
            return try await unreadable(request)
        }
        let key = try await currentIteratorKey()
        // An iterator the router cannot open is sent on anyway: the node's answer is the right error.
        guard let iterator = ShardIterator(token: token, key: key) else { return try await unreadable(request) }
        return try await forward(
            request,
            to: .shard(streamID: iterator.streamID, shard: ShardID(index: iterator.shardIndex))
        )
    }

    /// The group of the open shard `partitionKey` (or `explicit`) hashes to; nil when the key is malformed
    /// (the node's answer names the error).
    func shard(
        for partitionKey: String,
        _ explicit: String?,
        _ selector: StreamSelector?,
        _ region: String?
    ) async throws -> RaftGroupID? {
        // A malformed ExplicitHashKey: the node's answer names the error.
        guard let selector, let key = try? RecordRouting.hashKey(partitionKey: partitionKey, explicitHashKey: explicit)
        else {
            return nil
        }
        let route = try await route(for: selector, region: region)
        guard let (shard, _) = try? route.map.route(key) else { return nil }
        return .shard(streamID: route.stream.id, shard: shard.id)
    }

    /// PutRecord's partition key, explicit hash key and stream; nil when any is missing or malformed.
    static func recordKey(_ body: [UInt8]) -> (String, String?, StreamSelector)? {
        do {
            var r = try RequestReader(bytes: body)
            guard let partitionKey = try r.string("PartitionKey"), let selector = try r.streamSelector() else {
                return nil
            }
            return (partitionKey, try r.string("ExplicitHashKey"), selector)
        } catch {
            return nil
        }
    }
}
