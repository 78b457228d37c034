import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a failed dial was refused by the peer's host: nothing listens on the peer port, so the peer's process
/// is gone (killed, crashed, stopping or not restarted yet). A timeout or an unreachable network says nothing of
/// the kind, and a handshake the peer refused (`TransportError.refused`) means it runs.
func isConnectionRefused(_ error: any Error) -> Bool {
    if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
    if let error = error as? NIOConnectionError {
        return !error.connectionErrors.isEmpty && error.connectionErrors.allSatisfy { isConnectionRefused($0.error) }
    }
    return false
}
