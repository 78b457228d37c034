import RillKinesis

/// IAM's evaluation over the caller's identity policies (from the credentials file, `KeyRing`) and the
/// resource policy of the stream or consumer the call acts on (PutResourcePolicy): an explicit deny wins;
/// within the cluster's account an allow from either suffices; another account's key needs both
/// (`PolicyEvaluation`). A refusal is AccessDeniedException in AWS's words.
public struct PolicyAuthorizer: Authorizer {
    let keys: KeyRing

    public init(keys: KeyRing) { self.keys = keys }

    public func authorize(_ request: AuthorizationRequest) throws(KinesisError) {
        // Every call a node serves was signed at the edge; one that names no key came over the peer port from
        // something that verified nothing, and may not skip SigV4 that way.
        guard let key = request.principal.accessKeyID else {
            throw KinesisError(.missingAuthenticationToken, "Missing Authentication Token")
        }
        // A key the file no longer holds (removed by a reload since the edge verified it).
        guard let identity = keys.identity(accessKeyID: key) else {
            throw KinesisError(.unrecognizedClient, "The security token included in the request is invalid.")
        }
        let (resourceAccount, policyText): (String, String?) =
            switch request.resource {
            case .account(let account, _): (account, nil)
            case .arn(_, let account, let policy): (account, policy)
            }
        // The line form's keys with no resource policy in the way: nothing to evaluate.
        if identity.policies == nil, policyText == nil { return }
        let resourcePolicy = policyText.flatMap { keys.resourcePolicy($0) }
        let access = AccessRequest(
            principal: identity,
            action: "kinesis:" + request.action.rawValue,
            resource: request.resource.name,
            resourceAccount: resourceAccount,
            context: [
                "aws:SecureTransport": request.principal.secureTransport ? "true" : "false",
                "aws:PrincipalAccount": identity.account,
                "aws:PrincipalArn": identity.arn,
                "aws:PrincipalType": "User",
                "aws:username": identity.arn.split(separator: "/").last.map(String.init) ?? "",
                "aws:RequestedRegion": request.region,
            ]
        )
        if case .deny(let reason) = PolicyEvaluation.decide(access, resourcePolicy: resourcePolicy) {
            throw KinesisError(.accessDenied, PolicyEvaluation.message(access, reason))
        }
    }
}
