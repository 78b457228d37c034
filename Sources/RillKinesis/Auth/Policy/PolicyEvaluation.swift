/// Who made a call, after authentication.
public struct IAMIdentity: Sendable, Equatable {
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    public var arn: String
    public var account: String
    /// The identity policies of the key; nil means every action on every resource (the `AKID:SECRET` form).
    public var policies: [PolicyDocument]?

    public init(arn: String, account: String, policies: [PolicyDocument]?) {
        self.arn = arn
        self.account = account
        self.policies = policies
    }

    public static func user(_ name: String, account: String, policies: [PolicyDocument]?) -> IAMIdentity {
        IAMIdentity(arn: "arn:aws:iam::\(account):user/\(name)", account: account, policies: policies)
    }
}

/// One call to authorize: who, which action on which resource, and the request's condition keys.
public struct AccessRequest: Sendable {
    public var principal: IAMIdentity
    /// `kinesis:PutRecord`.
    public var action: String
    /// The stream or consumer ARN, or `*` for calls on no resource (ListStreams, DescribeLimits).
    public var resource: String
    public var resourceAccount: String
    /// Condition keys (`aws:SecureTransport`, `aws:PrincipalAccount`, ...), matched case-insensitively.
    public var context: [String: String]

    public init(
        principal: IAMIdentity,
        action: String,
        resource: String,
        resourceAccount: String,
        context: [String: String] = [:]
    ) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.resourceAccount = resourceAccount
        self.context = context
    }
}

public enum AccessDecision: Sendable, Equatable {
    case allow
    case deny(Reason)

    public enum Reason: Sendable, Equatable {
        case explicitDenyInIdentityPolicy
        case explicitDenyInResourcePolicy
        case noIdentityPolicyAllows
        /// Another account's principal needs the resource's policy to allow it too.
        case noResourcePolicyAllows
    }
}

/// IAM's policy evaluation logic, as much of it as Kinesis calls meet: an explicit deny anywhere wins; within
/// one account an allow from the identity policy or the resource policy suffices; across accounts both must
/// allow. Pure.
public enum PolicyEvaluation {
    public static func decide(_ request: AccessRequest, resourcePolicy: PolicyDocument?) -> AccessDecision {
        let identity = request.principal.policies.map { documents in outcome(documents, request, resourcePolicy: false)
        }
        let resource = resourcePolicy.map { outcome([$0], request, resourcePolicy: true) }
        if identity == .deny { return .deny(.explicitDenyInIdentityPolicy) }
        if resource == .deny { return .deny(.explicitDenyInResourcePolicy) }
        let identityAllows = identity.map { $0 == .allow } ?? true
        let resourceAllows = resource == .allow
        if request.principal.account == request.resourceAccount {
            return identityAllows || resourceAllows ? .allow : .deny(.noIdentityPolicyAllows)
        }
        if !identityAllows { return .deny(.noIdentityPolicyAllows) }
        return resourceAllows ? .allow : .deny(.noResourcePolicyAllows)
    }

    /// AWS's AccessDeniedException message for a refusal.
    public static func message(_ request: AccessRequest, _ reason: AccessDecision.Reason) -> String {
        let base =
            "User: \(request.principal.arn) is not authorized to perform: \(request.action) on resource: \(request.resource)"
        return switch reason {
        case .explicitDenyInIdentityPolicy: base + " with an explicit deny in an identity-based policy"
        case .explicitDenyInResourcePolicy: base + " with an explicit deny in a resource-based policy"
        case .noIdentityPolicyAllows: base + " because no identity-based policy allows the \(request.action) action"
        case .noResourcePolicyAllows: base + " because no resource-based policy allows the \(request.action) action"
        }
    }

    enum Outcome { case deny, allow, silent }

    static func outcome(_ documents: [PolicyDocument], _ request: AccessRequest, resourcePolicy: Bool) -> Outcome {
        var allowed = false
        for statement in documents.flatMap(\.statements)
        where applies(statement, request, resourcePolicy: resourcePolicy) {
            if statement.effect == .deny { return .deny }
            allowed = true
        }
        return allowed ? .allow : .silent
    }

    static func applies(_ statement: PolicyDocument.Statement, _ request: AccessRequest, resourcePolicy: Bool) -> Bool {
        guard matches(statement.actions, request.action, ignoringCase: true),
            matches(statement.resources, request.resource, ignoringCase: false)
        else { return false }
        if resourcePolicy {
            guard let principals = statement.principals, names(principals, request.principal) != statement.notPrincipal
            else {
                return false
            }
        }
        return statement.conditions.allSatisfy { holds($0, request.context) }
    }

    static func matches(_ match: PolicyDocument.Match, _ value: String, ignoringCase: Bool) -> Bool {
        switch match {
        case .these(let patterns): patterns.contains { Wildcard.matches($0, value, ignoringCase: ignoringCase) }
        case .allBut(let patterns): !patterns.contains { Wildcard.matches($0, value, ignoringCase: ignoringCase) }
        }
    }

    /// A resource policy's principal names an account (`111122223333`, `arn:aws:iam::111122223333:root`) or one
    /// principal by ARN.
    static func names(_ principals: PolicyDocument.Principals, _ principal: IAMIdentity) -> Bool {
        switch principals {
        case .anyone: return true
        case .aws(let names):
            return names.contains { name in
                name == principal.account || name == "arn:aws:iam::\(principal.account):root"
                    || Wildcard.matches(name, principal.arn)
            }
        }
    }

    static func holds(_ condition: PolicyDocument.Condition, _ context: [String: String]) -> Bool {
        let ifExists = condition.operation.hasSuffix("IfExists")
        let operation = ifExists ? String(condition.operation.dropLast("IfExists".count)) : condition.operation
        let key = condition.key.lowercased()
        let value = context.first { $0.key.lowercased() == key }?.value
        if operation == "Null" {
            // "true": the key must be absent; "false": present.
            return condition.values.contains { ($0.lowercased() == "true") == (value == nil) }
        }
        let negated = operation.contains("Not")
        guard let value else { return ifExists || negated }
        let any: Bool
        switch operation {
        case "StringEquals", "StringNotEquals": any = condition.values.contains(value)
        case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
            any = condition.values.contains { $0.lowercased() == value.lowercased() }
        case "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike":
            any = condition.values.contains { Wildcard.matches($0, value) }
        case "Bool": any = condition.values.contains { $0.lowercased() == value.lowercased() }
        default: return false
        }
        return negated ? !any : any
    }
}
