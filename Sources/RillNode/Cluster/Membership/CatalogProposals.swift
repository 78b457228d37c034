import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting
import RillStorage
import RillTransport

/// Catalog commands proposed on a node's own behalf to the metadata leader, wherever it is: a removed member,
/// a restarted node's barrier. This node answers them too when it leads (`PeerCall.proposeCatalog`).
struct CatalogProposals: Sendable {
    let me: NodeID
    let metadata: MetadataStore
    let clock: any WallClock
    /// Sends to the metadata leader; nil for a one-node cluster, which proposes to its own group.
    let forwarder: Forwarder?

    /// Proposes `command` to the metadata group wherever it is led, following redirects until the forwarder's
    /// deadline; throws the catalog's refusal, or the forwarder's failure.
    func proposeToMetadataLeader(_ command: CatalogCommand) async throws {
        let encoded = Array(try JSONEncoder().encode(command))
        guard let forwarder else { throw KinesisError.internalFailure("no peer transport") }
        _ = try await forwarder.untilServed { hint -> Bool? in
            var target = hint
            if target == nil { target = await self.metadata.driver.status.leader }
            let answer: PeerAnswer
            if target == nil || target == self.me {
                answer = await self.answerProposeCatalog(encoded)
            } else if let target {
                guard
                    case .answered(let remote) = try await forwarder.send(.proposeCatalog(command: encoded), to: target)
                else { return nil }
                answer = remote
            } else {
                return nil
            }
            switch answer {
            case .response: return true
            case .notLeader(let hint): throw Redirect(hint: hint.map { NodeID($0) })
            default: throw Forwarder.failure(answer, from: target ?? self.me)
            }
        }
    }

    /// Proposes a membership command a peer received from an operator; only the metadata leader does.
    func answerProposeCatalog(_ bytes: [UInt8]) async -> PeerAnswer {
        // Only what peers propose on their own behalf: taking a member out, and a restarted node's barrier.
        guard let command = try? JSONDecoder().decode(CatalogCommand.self, from: Data(bytes)),
            command.isPeerProposable
        else {
            return .error(code: KinesisErrorCode.invalidArgument.rawValue, message: "not a membership command")
        }
        let status = await metadata.driver.status
        guard status.role == .leader else { return .notLeader(hint: status.leader?.rawValue) }
        do {
            switch try await metadata.propose(command, stampMillis: clock.nowMillis()) {
            case .success: return .response([])
            case .failure(let error): return .error(code: error.code.rawValue, message: error.message)
            }
        } catch let redirect as Redirect {
            return .notLeader(hint: redirect.hint?.rawValue)
        } catch let error as KinesisError {
            return .error(code: error.code.rawValue, message: error.message)
        } catch {
            return .indeterminate("\(error)")
        }
    }
}

extension CatalogCommand {
    /// Whether a peer may propose it through `PeerCall.proposeCatalog`.
    fileprivate var isPeerProposable: Bool {
        switch self {
        case .removeMember, .barrier: true
        default: false
        }
    }
}
