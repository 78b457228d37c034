import RillKinesis
import Synchronization

/// The keys a node or router accepts, and who each is (`CredentialStore`), replaceable while the process runs
/// (SIGHUP reloads the credentials file). Requests read the set in force when they arrive.
public final class KeyRing: Sendable {
    private struct Loaded {
        var store: CredentialStore
        /// Built once per load, not per request.
        var verifier: SigV4Verifier
    }

    private let loaded: Mutex<Loaded>
    /// Parsed resource policies by their JSON text: a stream's policy changes rarely and is read on every call.
    private let policies = Mutex<[String: PolicyDocument?]>([:])
    /// The account of keys that name none (every key of the `AKID:SECRET` form): the cluster's `--account-id`.
    public let defaultAccount: String

    public init(_ store: CredentialStore, defaultAccount: String) {
        self.loaded = Mutex(Loaded(store: store, verifier: store.verifier))
        self.defaultAccount = defaultAccount
    }

    /// Puts `store` in force for every request from now on.
    public func replace(_ store: CredentialStore) {
        let verifier = store.verifier
        loaded.withLock { $0 = Loaded(store: store, verifier: verifier) }
    }

    /// The credentials in force.
    public var store: CredentialStore { loaded.withLock { $0.store } }

    /// Checks a request's SigV4 signature; returns its region and the caller.
    public func authenticate(
        _ request: SigV4Verifier.Request,
        nowMillis: Int64,
        secureTransport: Bool
    ) throws(KinesisError) -> (region: String, principal: Principal) {
        let verifier = loaded.withLock { $0.verifier }
        let verified = try verifier.authenticate(request, nowMillis: nowMillis)
        return (verified.region, Principal(accessKeyID: verified.accessKeyID, secureTransport: secureTransport))
    }

    /// Who holds `accessKeyID`, or nil when no key of that id is in force.
    public func identity(accessKeyID: String) -> IAMIdentity? {
        loaded.withLock { $0.store.principal(accessKeyID: accessKeyID, defaultAccount: defaultAccount) }
    }

    /// May `principal` call the admin endpoint that stands for `action` (`rill:RemoveMember`, ...)? Only the
    /// caller's identity policies can allow it (admin endpoints have no resource policy); `AKID:SECRET` keys
    /// may do everything. Throws the AccessDeniedException the caller gets.
    public func authorizeAdmin(_ principal: Principal, action: String) throws(KinesisError) {
        guard let key = principal.accessKeyID else {
            throw KinesisError(.missingAuthenticationToken, "Missing Authentication Token")
        }
        guard let identity = identity(accessKeyID: key) else {
            throw KinesisError(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        let access = AccessRequest(
            principal: identity,
            action: action,
            resource: "*",
            resourceAccount: identity.account,
            context: ["aws:SecureTransport": principal.secureTransport ? "true" : "false"]
        )
        if case .deny(let reason) = PolicyEvaluation.decide(access, resourcePolicy: nil) {
            throw KinesisError(.accessDenied, PolicyEvaluation.message(access, reason))
        }
    }

    /// A stored resource policy, parsed; nil when it does not parse (stored before PutResourcePolicy checked
    /// policies): it then grants and denies nothing.
    func resourcePolicy(_ text: String) -> PolicyDocument? {
        if let cached = policies.withLock({ $0[text] }) { return cached }
        let parsed: PolicyDocument?
        do {
            parsed = try PolicyDocument(json: text, isResourcePolicy: true)
        } catch {
            parsed = nil
        }
        policies.withLock {
            // Bounded: streams' policies are few; a burst of distinct ones just starts the cache over.
            if $0.count >= 1024 { $0.removeAll() }
            $0[text] = parsed
        }
        return parsed
    }
}
