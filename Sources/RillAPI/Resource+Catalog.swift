import RillKinesis

extension Resource {
    /// The resource `target` names in `catalog`, with the policy attached to it. A stream or consumer the
    /// catalog does not hold is still named (its ARN, no policy), so a caller not allowed to act on that name
    /// learns nothing of whether it exists; one that is allowed then gets the service's ResourceNotFound.
    public static func of(
        _ target: AccessTarget,
        catalog: Catalog,
        namespace: Namespace,
        nowMillis: Int64
    ) -> Resource {
        func stream(_ selector: StreamSelector) -> Resource {
            var home = namespace
            if let arn = selector.arn {
                home = Namespace(account: arn.account, region: arn.region)
            }
            let policy = catalog.stream(selector.name, in: home)?.policy
            return .arn(home.streamARN(selector.name), account: home.account, policy: policy)
        }
        switch target {
        case .account:
            return .account(account: namespace.account, region: namespace.region)
        case .stream(let selector):
            return stream(selector)
        case .consumer(let arn, let name, let created):
            let home = Namespace(account: arn.account, region: arn.region)
            let consumer = catalog.stream(arn.streamName, in: home)?.consumers?
                .first { $0.name == name && $0.createdSeconds == created }
            let streamARN = home.streamARN(arn.streamName)
            return .arn("\(streamARN)/consumer/\(name):\(created)", account: home.account, policy: consumer?.policy)
        case .consumerNamed(let selector, let name):
            var home = namespace
            if let arn = selector.arn { home = Namespace(account: arn.account, region: arn.region) }
            let streamARN = home.streamARN(selector.name)
            guard let consumer = catalog.stream(selector.name, in: home)?.consumers?.first(where: { $0.name == name })
            else {
                // No such consumer: its ARN would carry a creation time; name it without one.
                return .arn("\(streamARN)/consumer/\(name)", account: home.account, policy: nil)
            }
            return .arn(consumer.arn(streamARN: streamARN), account: home.account, policy: consumer.policy)
        case .iterator(let token):
            // A forged or garbled iterator names nothing; GetRecords refuses it, whoever asks.
            guard let iterator = ShardIterator(token: token, key: catalog.iteratorKey) else {
                return .account(account: namespace.account, region: namespace.region)
            }
            let arn = StreamARN(region: iterator.region, account: namespace.account, streamName: iterator.streamName)
            return stream(StreamSelector(name: iterator.streamName, arn: arn))
        case .pageToken(let token):
            guard case .live(let fields)? = PageToken.decode(token, now: nowMillis), fields.count == 3 else {
                return .account(account: namespace.account, region: namespace.region)
            }
            let arn = StreamARN(region: fields[1], account: namespace.account, streamName: fields[0])
            return stream(StreamSelector(name: fields[0], arn: arn))
        }
    }
}
