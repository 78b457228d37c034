import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process `rill trigger` runs a handler in, with a pipe to its standard input and one from its standard output,
/// both as one NIO pipe channel (non-blocking: no thread waits on a handler). Its standard error is ours, so what a
/// handler logs lands where the trigger's log does.
struct ChildProcess: Sendable {
    let pid: pid_t
    let channel: any Channel

    enum Framing: Sendable {
        /// Each answer is one line (the Python host's framed JSON).
        case lines
        /// The answer is everything written before the process closes its output (`--command`).
        case untilEOF
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `arguments` (looked up on PATH). With `passStandardOutput`, our standard output is also the child's
    /// descriptor 3, for a host that keeps the pipe for its answers and gives the handler's prints our output.
    static func spawn(
        _ arguments: [String],
        framing: Framing,
        passStandardOutput: Bool,
        on group: any EventLoopGroup
    ) async throws -> ChildProcess {
        let (pid, input, output) = try spawnLock.withLock { _ in
            try startProcess(arguments, passStandardOutput: passStandardOutput)
        }
        do {
            let channel = try await NIOPipeBootstrap(group: group)
                .takingOwnershipOfDescriptors(input: input, output: output) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PipeExchangeHandler(framing: framing))
                        return channel
                    }
                }
            return ChildProcess(pid: pid, channel: channel)
        } catch {
            kill(pid, SIGKILL)
            _ = await reap(pid)
            throw error
        }
    }

    /// Serializes spawning: the Glibc module does not export pipe2, so pipes get close-on-exec in a second step.
    private static let spawnLock = Mutex(())

    /// Makes the pipes and starts the process; returns its pid, the end we read and the end we write.
    private static func startProcess(
        _ arguments: [String],
        passStandardOutput: Bool
    ) throws -> (pid_t, Int32, Int32) {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw SpawnError(description: "pipe: errno \(errno)") }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw SpawnError(description: "pipe: errno \(errno)")
        }
        // Close-on-exec, so no other child inherits these ends (a stray write end would keep a pipe from ever
        // reaching end of file); spawns hold `spawnLock`, so none starts between pipe() and here.
        for descriptor in toChild + fromChild { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Order matters: descriptor 3 takes our stdout before the pipe takes descriptor 1.
        if passStandardOutput { posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, 3) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], STDOUT_FILENO)
        // The trigger ignores SIGINT, SIGTERM and SIGPIPE to handle them itself; ignored signals survive exec, so
        // the child gets the default dispositions back.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // A process group of its own: Ctrl-C at a terminal reaches the trigger, which lets the invocations in
        // flight finish, rather than killing the handlers under it. A host still ends when the trigger does: its
        // input closes.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        // Our environment, passed explicitly: C's `environ` global is not concurrency-safe to touch in Swift 6.
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + environment { free(pointer) } }
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environment)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw SpawnError(description: "\(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        return (pid, fromChild[0], toChild[1])
    }

    /// Writes `bytes` and waits for the answer; with `closeInput`, closes the child's input after them.
    /// At `deadline` the process is killed and the call fails.
    func exchange(_ bytes: [UInt8], closeInput: Bool, deadline: NIODeadline) async throws -> [UInt8] {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: [UInt8].self)
        let written = loop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail($0) }
        let channel = self.channel
        let pid = self.pid
        channel.writeAndFlush(PipeExchange(bytes: ByteBuffer(bytes: bytes), promise: promise), promise: written)
        if closeInput {
            // The child may exit without reading its input; its answer decides, not our half-close.
            written.futureResult.whenSuccess { channel.close(mode: .output, promise: nil) }
        }
        let timeout = loop.scheduleTask(deadline: deadline) {
            promise.fail(InvocationTimedOut())
            kill(pid, SIGKILL)
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        return try await promise.futureResult.get()
    }

    /// Closes the pipes (a host reads end of input and exits), kills the process if asked, and reaps it.
    func stop(kill force: Bool) async -> Int32? {
        if force { kill(pid, SIGKILL) }
        try? await channel.close()  // Already closed when the child exited first: nothing to do then.
        return await Self.reap(pid)
    }

    /// Waits for the process to exit and returns its exit code (nil when a signal ended it). Polls with WNOHANG so
    /// no thread blocks in waitpid; a child that closed its output is normally gone within a poll or two.
    static func reap(_ pid: pid_t) async -> Int32? {
        var delay = Duration.milliseconds(1)
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
                return status & 0x7F == 0 ? (status >> 8) & 0xFF : nil
            }
            if result < 0 && errno != EINTR { return nil }
            // Cancellation cannot be honoured here without leaving a zombie; the child is killed or closing.
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(50))
        }
    }
}

/// The handler ran past its deadline (Lambda's function timeout).
struct InvocationTimedOut: Error, CustomStringConvertible {
    var description: String { "the handler timed out" }
}

/// The handler's process closed its output before answering.
struct HandlerExited: Error, CustomStringConvertible {
    var description: String { "the handler's process exited before answering" }
}

struct PipeExchange: Sendable {
    var bytes: ByteBuffer
    var promise: EventLoopPromise<[UInt8]>
}

/// Matches answers to requests in order: one line per request, or everything up to end of input.
private final class PipeExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PipeExchange
    typealias OutboundOut = ByteBuffer

    private let framing: ChildProcess.Framing
    private var waiting = CircularBuffer<EventLoopPromise<[UInt8]>>()
    private var received: [UInt8] = []

    init(framing: ChildProcess.Framing) { self.framing = framing }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        waiting.append(exchange.promise)
        context.write(wrapOutboundOut(exchange.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
        guard case .lines = framing else { return }
        while let newline = received.firstIndex(of: 0x0A) {
            let line = Array(received[..<newline])
            received.removeFirst(newline + 1)
            guard let next = waiting.popFirst() else {
                // An answer nobody asked for: the host is confused; closing fails whatever comes next.
                context.close(promise: nil)
                return
            }
            next.succeed(line)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        while let next = waiting.popFirst() { next.fail(error) }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .untilEOF = framing, let next = waiting.popFirst() { next.succeed(received) }
        while let next = waiting.popFirst() { next.fail(HandlerExited()) }
        context.fireChannelInactive()
    }
}
