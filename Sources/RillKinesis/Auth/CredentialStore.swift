/// The keys a node or router accepts and what each may do, from `--credentials-file` / `RILL_CREDENTIALS`.
///
/// Two forms. Lines of `AKID:SECRET` (commas also separate; `#` comments): each key may do everything, in the
/// node's own account. Or JSON, one user per key with IAM identity policies:
///
///     {"Users": [{"Name": "producer", "AccessKeyId": "AKIDPRODUCER", "SecretAccessKey": "...",
///                 "Account": "111111111111", "Policies": [{"Version": "2012-10-17", "Statement": [...]}]}]}
///
/// A JSON user without `Policies` may do nothing until a resource policy allows it, as in IAM.
public struct CredentialStore: Sendable {
    public struct User: Sendable, Equatable {
        public var name: String
        public var accessKeyID: String
        public var secret: String
        /// Nil: the node's account.
        public var account: String?
        /// Nil: every action (the line form).
        public var policies: [PolicyDocument]?
    }

    public private(set) var users: [String: User]

    public struct Invalid: Error, Sendable, Equatable {
        public var reason: String
    }

    public init(users: [User]) {
        self.users = Dictionary(users.map { ($0.accessKeyID, $0) }, uniquingKeysWith: { _, last in last })
    }

    public init(parsing text: String) throws(Invalid) {
        if text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).hasPrefix("{") {
            try self.init(json: text)
        } else {
            guard let verifier = SigV4Verifier(parsing: text) else {
                throw Invalid(reason: "expected AKID:SECRET lines or a JSON document with Users")
            }
            self.init(
                users: verifier.secrets.map {
                    User(name: $0.key, accessKeyID: $0.key, secret: $0.value, account: nil, policies: nil)
                }
            )
        }
    }

    init(json text: String) throws(Invalid) {
        guard case .object(let root)? = try? JSONParser.parse(Array(text.utf8)),
            case .array(let entries)? = root["Users"],
            !entries.isEmpty
        else { throw Invalid(reason: "a JSON credentials file needs a non-empty Users list") }
        var users: [User] = []
        for (index, entry) in entries.enumerated() {
            guard case .object(let user) = entry, case .string(let key)? = user["AccessKeyId"], !key.isEmpty,
                case .string(let secret)? = user["SecretAccessKey"], !secret.isEmpty
            else { throw Invalid(reason: "Users[\(index)] needs AccessKeyId and SecretAccessKey") }
            var name = key
            if case .string(let given)? = user["Name"] { name = given }
            var account: String? = nil
            if let value = user["Account"] {
                guard case .string(let id) = value, id.utf8.count == 12,
                    id.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                else {
                    throw Invalid(reason: "Users[\(index)].Account must be a 12-digit account id")
                }
                account = id
            }
            var policies: [PolicyDocument] = []
            if let value = user["Policies"] {
                guard case .array(let documents) = value else {
                    throw Invalid(reason: "Users[\(index)].Policies must be a list")
                }
                for (number, document) in documents.enumerated() {
                    do {
                        policies.append(try PolicyDocument(document, isResourcePolicy: false))
                    } catch {
                        throw Invalid(reason: "Users[\(index)].Policies[\(number)]: \(error.reason)")
                    }
                }
            }
            users.append(User(name: name, accessKeyID: key, secret: secret, account: account, policies: policies))
        }
        self.init(users: users)
    }

    /// The signature verifier over these keys.
    public var verifier: SigV4Verifier { SigV4Verifier(secrets: users.mapValues(\.secret)) }

    /// The principal behind an authenticated access key, in `defaultAccount` unless the user names one.
    public func principal(accessKeyID: String, defaultAccount: String) -> IAMIdentity? {
        guard let user = users[accessKeyID] else { return nil }
        return .user(user.name, account: user.account ?? defaultAccount, policies: user.policies)
    }
}
