import RillAPI
import RillKinesis
import RillModel
import RillRouting

extension Router {
    /// Splits the records by shard, sends each shard's records to its leader and merges the answers
    /// (`Forwarder.putRecords`), JSON and CBOR alike, byte for byte. A request a node would refuse as a whole is
    /// sent whole to one node, whose answer names the error. Records refused because the shard map is older than
    /// a reshard are split again by a fresh one (`Forwarder.routeAgain`).
    func putRecords(_ request: APIRequest) async throws -> APIResponse {
        guard let body = PutRecordsBody(request.body, encoding: request.bodyEncoding) else {
            // A CBOR body the byte-level reader leaves alone is read as JSON: malformed CBOR is a
            // SerializationException there, anything merely unusual is split as JSON.
            if request.bodyEncoding == .cbor { return try await putRecords(request.inJSON()) }
            return try await unreadable(request)
        }
        let route = try await route(for: body.selector, region: request.signedRegion)
        guard !body.isSurelyRefused(maxRecordBytes: route.stream.maxRecordSizeKiB * 1024),
            request.producer.map({ $0.sequences.count == body.count }) ?? true
        else {
            return try await unreadable(request)
        }
        // Records a node refuses as sealed were split by a map older than a reshard: fetched again, once.
        let region = request.signedRegion
        return try await forwarder.putRecords(request, body: body, map: route.map, streamID: route.stream.id) {
            self.forgetRoute(body.selector, region: region)
            return try await self.route(for: body.selector, region: region).map
        }
    }
}
