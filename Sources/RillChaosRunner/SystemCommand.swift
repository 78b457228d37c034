import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs short system tools (`ip`, `nft`, `tc`) for the netns harness, awaiting their exit without holding a
/// thread, and keeps what they printed for the error message.
enum SystemCommand {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var succeeded: Bool { status == 0 }
    }

    /// Runs `executable` with `arguments`; cancellation does not stop it (teardown must finish).
    static func run(_ executable: String, _ arguments: [String]) async -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let exit = Exit()
        process.terminationHandler = { process in exit.finished(process.terminationStatus) }
        do {
            try process.run()
        } catch {
            return Result(status: -1, output: "cannot run \(executable): \(error)")
        }
        // These tools print a line or two, well under a pipe's buffer, so reading after exit cannot block them.
        let status = await exit.wait()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Result(status: status, output: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The exit status, awaited without regard to cancellation: a cancelled run still tears down in order.
    private final class Exit: Sendable {
        private let state = Mutex<(status: Int32?, waiter: CheckedContinuation<Int32, Never>?)>((nil, nil))

        func finished(_ status: Int32) {
            let waiter = state.withLock { state -> CheckedContinuation<Int32, Never>? in
                state.status = status
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: status)
        }

        func wait() async -> Int32 {
            await withCheckedContinuation { continuation in
                let status = state.withLock { state -> Int32? in
                    if state.status == nil { state.waiter = continuation }
                    return state.status
                }
                if let status { continuation.resume(returning: status) }
            }
        }
    }

    /// The first executable named `name` on PATH or in the sbin directories root's PATH usually has.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
