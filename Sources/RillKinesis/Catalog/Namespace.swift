/// Where stream names live: an account and a region (from the SigV4 scope or `--region`).
public struct Namespace: Hashable, Codable, Sendable, CustomStringConvertible {
    public var account: String
    public var region: String
    public init(account: String, region: String) {
        self.account = account
        self.region = region
    }
    public var description: String { "\(account)/\(region)" }
    public func streamARN(_ name: String) -> String {
        StreamARN(region: region, account: account, streamName: name).description
    }
}
