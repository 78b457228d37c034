import RillKinesis

/// Who makes a call, as the front end that verified its signature tells it.
public struct Principal: Sendable, Hashable {
    /// The access key id the request was signed with; nil when signatures are not checked.
    public var accessKeyID: String?
    /// Whether the client's connection was TLS (`aws:SecureTransport`). A forwarded call keeps what the first
    /// node or router saw.
    public var secureTransport: Bool

    public init(accessKeyID: String? = nil, secureTransport: Bool = false) {
        self.accessKeyID = accessKeyID
        self.secureTransport = secureTransport
    }

    /// A caller nothing is known of (a node that checks no signatures).
    public static let anonymous = Principal()
}

/// What a call acts on, resolved against the catalog before any service runs.
public enum Resource: Sendable, Hashable {
    /// No particular stream: the account's streams in one region (ListStreams, DescribeLimits, ...). Policies
    /// see it as `*`, as IAM does for Kinesis's account-wide actions.
    case account(account: String, region: String)
    /// A stream or consumer ARN, the account that owns it, and the resource policy attached to it (its JSON,
    /// as PutResourcePolicy stored it), if any.
    case arn(String, account: String, policy: String?)

    /// The resource as policies and AccessDeniedException messages name it.
    public var name: String {
        switch self {
        case .account: "*"
        case .arn(let arn, _, _): arn
        }
    }
}

/// One question for the authorizer: may `principal` do `action` to `resource`?
public struct AuthorizationRequest: Sendable, Hashable {
    public var principal: Principal
    public var action: KinesisOperation
    public var resource: Resource
    /// The region the call is served in (`aws:RequestedRegion`).
    public var region: String

    public init(principal: Principal, action: KinesisOperation, resource: Resource, region: String) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.region = region
    }
}

/// The step between the codec and the services: every served call is put to it, and a call it refuses reaches
/// no service. `AllowAll` without credentials; `PolicyAuthorizer` with them.
public protocol Authorizer: Sendable {
    /// Returns when the call may go on; throws the error the client gets (AccessDeniedException) when not.
    func authorize(_ request: AuthorizationRequest) throws(KinesisError)
    /// True when no call is ever refused, so the node need not work out what each call acts on.
    var allowsEverything: Bool { get }
}

extension Authorizer {
    public var allowsEverything: Bool { false }
}

/// Lets every call through: a node that checks no signatures (no `--credentials-file`) knows no caller to
/// refuse.
public struct AllowAll: Authorizer {
    public init() {}

    public func authorize(_ request: AuthorizationRequest) throws(KinesisError) {}

    public var allowsEverything: Bool { true }
}
