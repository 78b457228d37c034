/// Node-to-node transport: framed, versioned, multiplexed messages over TCP.
public enum PeerProtocol {
    /// Carried in every frame; a peer speaking another version is refused at the handshake.
    public static let version: UInt8 = 1
}
