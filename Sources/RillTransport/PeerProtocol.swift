/// Node-to-node transport: framed, versioned, multiplexed messages over TCP.
public enum PeerProtocol {
    /// Carried in every frame; a peer speaking another version is refused at the handshake.
    /// 2 added the `heartbeats` frame: a version-1 node would close the connection on it, so the handshake
    /// refuses it up front instead.
    public static let version: UInt8 = 2
}
