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
