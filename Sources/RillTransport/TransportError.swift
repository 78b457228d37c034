/// Why a request (or a fault setting) failed. The cases separate "provably not delivered" from "unknown",
/// which the forwarder needs to decide whether a retry could duplicate (ARCHITECTURE.md "One forwarder").
public enum TransportError: Error, Sendable, Equatable {
    /// Refused, not connected or never written: the peer provably did not receive the request.
    case unreachable
    /// The connection attempt got no answer within `TransportSettings.connectTimeout`: the peer's host, or the
    /// path to it, drops packets (a partition, or a host gone without a word). Nothing was sent, as for
    /// `unreachable`; unlike a refusal, waiting longer here is unlikely to help soon.
    case silent
    /// The request was written but no answer came in time: it may or may not have run.
    case timeout
    /// The connection broke after the request was written: it may or may not have run.
    case connectionLost
    /// The caller stopped waiting after the request was written (`RequestAbandonment`): it may or may not
    /// have run.
    case abandoned
    /// The acceptor refused the handshake (another cluster or protocol); reported to callers as `unreachable`.
    case refused(reason: String)
    /// The request does not fit in one frame (`PeerFrame.maximumLength`); nothing was sent.
    case payloadTooLarge
    /// The peer has no address in `setPeers`.
    case unknownPeer
    /// The transport was shut down.
    case shutdown
    /// A fault hook was used while `TransportSettings.faultInjection` is false.
    case faultInjectionDisabled
}
