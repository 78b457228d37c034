import NIOConcurrencyHelpers
import RillAPI
import RillKinesis
import RillModel
import RillNode
import Testing

/// The authorization step between the codec and the services (`Authorizer`).
@Suite struct AuthorizationTests {
    /// Refuses one action and records every question it is asked.
    final class DenyingAuthorizer: Authorizer {
        let denied: KinesisOperation
        let asked = NIOLockedValueBox<[AuthorizationRequest]>([])
        init(denying denied: KinesisOperation) { self.denied = denied }

        func authorize(_ request: AuthorizationRequest) throws(KinesisError) {
            asked.withLockedValue { $0.append(request) }
            guard request.action != denied else {
                throw KinesisError(.accessDenied, "\(request.action.rawValue) is not allowed")
            }
        }
    }

    @Test("a denying authorizer refuses the call before any service runs, and is asked about every call")
    func denyingAuthorizerDenies() async throws {
        let authorizer = DenyingAuthorizer(denying: .createStream)
        let harness = try await NodeHarness.start(authorizer: authorizer)
        let error = await harness.failure(.createStream, #"{"StreamName":"s","ShardCount":1}"#)
        #expect(error?.code == .accessDenied)
        #expect(error?.message == "CreateStream is not allowed")
        // Nothing was created: the refused call reached no service.
        let listed = try await harness.call(.listStreams, "{}")
        #expect(listed["StreamNames"]?.array?.isEmpty == true)
        let asked = authorizer.asked.withLockedValue { $0 }
        #expect(asked.map(\.action) == [.createStream, .listStreams])
        #expect(
            asked.allSatisfy {
                $0.principal == .anonymous && $0.resource == .namespace(account: "000000000000", region: "us-east-1")
            }
        )
        try await harness.cleanUp()
    }

    @Test("the allow-all authorizer lets every call through")
    func allowAllAllows() throws {
        try AllowAll().authorize(
            AuthorizationRequest(
                principal: .anonymous,
                action: .deleteStream,
                resource: .namespace(account: "a", region: "r")
            )
        )
    }
}
