import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `rill node` of the chaos cluster: its fixed ports, data dir and log, and the process running it.
///
/// Ports and paths never change, so a restarted node is the same member (or, with its data dir wiped, a
/// member that lost its disk). Every start appends a header line to the node's log.
struct NodeProcess: Sendable {
    /// 1-based, as `rill node --id`.
    let id: Int
    let zone: String
    /// The address API and peer port listen on: loopback, or the node's own network namespace.
    let host: String
    let apiPort: Int
    let peerPort: Int
    let dataDirectory: URL
    let logFile: URL
    /// A command the node runs under, such as `ip netns exec NAME`: it must exec the node in place, so the
    /// pid the harness signals is the node's.
    let launcher: [String]

    var api: APIAddress { APIAddress(host: host, port: apiPort) }
    var peer: String { "\(host):\(peerPort)" }

    /// The name fault events and checksums use.
    var name: String { "node-\(id)" }

    func arguments(join: [String], expect: Int, extra: [String]) -> [String] {
        [
            "node", "--id", "\(id)", "--az", zone, "--data-dir", dataDirectory.path, "--api", "\(host):\(apiPort)",
            "--peer", peer, "--join", join.joined(separator: ","), "--bootstrap-expect", "\(expect)",
        ] + extra
    }

    /// Starts `binary` with `arguments`, stdin from /dev/null, stdout and stderr appended to the log.
    func spawn(binary: String, arguments: [String], start: Int) throws(ChaosError) -> pid_t {
        let command = launcher + [binary] + arguments
        let header = "\n===== start #\(start) at \(Date()): \(command.joined(separator: " "))\n"
        do {
            if !FileManager.default.fileExists(atPath: logFile.path),
                !FileManager.default.createFile(atPath: logFile.path, contents: nil)
            {
                throw ChaosError.harness("cannot create \(logFile.path)")
            }
            let handle = try FileHandle(forWritingTo: logFile)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(header.utf8))
            try handle.close()
        } catch {
            throw .harness("cannot write \(logFile.path): \(error)")
        }
        return try Self.spawn(binary: command[0], arguments: Array(command.dropFirst()), output: logFile.path)
    }

    private static func spawn(binary: String, arguments: [String], output: String) throws(ChaosError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // The harness ignores SIGINT and SIGTERM to watch them itself; ignored signals survive exec, so
        // give the node the default dispositions and an empty mask back.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, binary, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw .harness("cannot start \(binary): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// Sends `signal` to `pid`; a process already gone is not an error here (the caller reaps it anyway).
func signalProcess(_ pid: pid_t, _ signal: Int32) {
    _ = kill(pid, signal)
}

/// Exit statuses as `waitpid` reports them.
enum ExitStatus {
    /// A readable account of a `waitpid` status: "exit 1", "signal 9".
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit \((status >> 8) & 0xff)" }
        return "signal \(signal)" + (status & 0x80 != 0 ? " (core dumped)" : "")
    }
}

/// Free TCP ports on loopback, found by binding port 0. All sockets stay open until every port is
/// chosen, so the ports differ from one another.
enum FreePorts {
    static func take(_ count: Int) throws(ChaosError) -> [Int] {
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw .harness("socket() failed: \(String(cString: strerror(errno)))") }
            descriptors.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else { throw .harness("cannot bind a loopback port: \(String(cString: strerror(errno)))") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
