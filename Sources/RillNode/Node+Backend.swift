import RillAPI
import RillKinesis

extension Node: APIBackend {
    public var verifiesSignatures: Bool { configuration.credentials != nil }

    /// A node serves every subscription itself (from its replica, or it says which node holds one).
    public func subscriptionRelay(_ request: APIRequest) async throws -> String? { nil }
}
