import ArgumentParser
import Foundation
import NIOCore
import RillClient
import RillKinesis

/// `--endpoint`, `--credentials` and `--region`: how `rill put` and `rill tail` reach and sign for a stream.
struct ClientOptions: ParsableArguments {
    @Option(help: "The Kinesis endpoint (plain HTTP).")
    var endpoint = "http://127.0.0.1:4567"

    @Option(
        help: """
            AKID:SECRET to SigV4-sign every call with. Defaults to AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when \
            both are set; otherwise calls carry an unsigned credential scope, which only a cluster without \
            credentials accepts.
            """
    )
    var credentials: String?

    @Option(help: "The region calls are signed for; it selects the stream namespace on the server.")
    var region = "us-east-1"

    func validate() throws {
        guard RillClient.Endpoint(endpoint) != nil else {
            throw ValidationError("--endpoint must look like http://host:port")
        }
        if let credentials, SigV4Signer(credentials: credentials, region: region) == nil {
            throw ValidationError("--credentials must be ACCESS_KEY_ID:SECRET")
        }
    }

    /// `--credentials`, else the AWS environment variables, else none.
    var signer: SigV4Signer? {
        SigV4Signer.resolve(credentials: credentials, region: region, environment: ProcessInfo.processInfo.environment)
    }

    func connect(on group: any EventLoopGroup) async throws -> KinesisClient {
        guard let target = RillClient.Endpoint(endpoint) else { throw ValidationError("bad --endpoint") }
        return try await KinesisClient.connect(to: target, on: group, signer: signer)
    }
}

/// Writes straight to fd 2 or 1: C's `stderr`/`stdout` globals are not concurrency-safe to touch in Swift 6.
enum StandardStream {
    static let errorIsTerminal = isatty(STDERR_FILENO) != 0

    static func error(_ text: String) { write(text.utf8.map { $0 }, to: STDERR_FILENO) }

    /// Writes every byte unless the descriptor is gone; false then (stdout closed by `head`, say).
    @discardableResult
    static func write(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }
}

/// A failure that ends `rill put` or `rill tail` with a message and a non-zero exit.
struct ToolFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
