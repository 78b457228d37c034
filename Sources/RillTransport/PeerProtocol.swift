/// Node-to-node transport: framed, versioned, multiplexed messages over TCP.
///
/// Every frame carries the protocol version that introduced its kind (`PeerFrame.protocolVersion`), not the
/// sender's newest, so a peer of an older version reads every frame meant for it. The acceptor of a connection
/// names its own version in its accepting `helloAck`, and the connector sends it only frames of that version or
/// older: nodes of versions 1 and 2 run side by side during a rolling upgrade. A frame of a version a node does
/// not speak is refused (at the handshake, a hello; afterwards the connection closes).
public enum PeerProtocol {
    /// The newest version this node speaks. 2 added the `heartbeats` frame.
    public static let version: UInt8 = 2
    /// The oldest version this node still reads, and writes to a peer that names no newer one.
    public static let oldestVersion: UInt8 = 1

    /// The `reason` of an accepting `helloAck`, naming the acceptor's version. Version 1 sent "" there and
    /// ignores the reason of an accepting answer, so it reads this unchanged.
    static var acceptReason: String { "version \(version)" }

    /// The acceptor's version, from the `reason` of its accepting `helloAck`: 1 when it names none (a version-1
    /// acceptor), never above what this node speaks.
    static func version(fromAcceptReason reason: String) -> UInt8 {
        guard reason.hasPrefix("version "), let named = UInt8(reason.dropFirst("version ".count)) else {
            return oldestVersion
        }
        return max(oldestVersion, min(named, version))
    }
}
