import RillKinesis

/// Who makes a call. Today only what SigV4 tells: whether the request was signed, and for which region.
/// The security issue fills in the access key and the identity it maps to.
public struct Principal: Sendable, Hashable {
    /// The access key id the request was signed with; nil when signatures are not checked.
    public var accessKeyID: String?

    public init(accessKeyID: String? = nil) {
        self.accessKeyID = accessKeyID
    }

    /// A caller nothing is known of (a node that checks no signatures).
    public static let anonymous = Principal()
}

/// What a call acts on, as precisely as the request names it before any service runs.
public enum Resource: Sendable, Hashable {
    /// The streams of one account in one region: every call is at least this.
    case namespace(account: String, region: String)
}

/// One question for the authorizer: may `principal` do `action` to `resource`?
public struct AuthorizationRequest: Sendable, Hashable {
    public var principal: Principal
    public var action: KinesisOperation
    public var resource: Resource

    public init(principal: Principal, action: KinesisOperation, resource: Resource) {
        self.principal = principal
        self.action = action
        self.resource = resource
    }
}

/// The step between the codec and the services: every call is put to it, and a call it refuses reaches no
/// service. `AllowAll` is the only policy today; the security issue brings IAM-like ones.
public protocol Authorizer: Sendable {
    /// Returns when the call may go on; throws the error the client gets (AccessDeniedException) when not.
    func authorize(_ request: AuthorizationRequest) throws(KinesisError)
}

/// Lets every call through: Rill's behaviour until the security issue.
public struct AllowAll: Authorizer {
    public init() {}

    public func authorize(_ request: AuthorizationRequest) throws(KinesisError) {}
}
