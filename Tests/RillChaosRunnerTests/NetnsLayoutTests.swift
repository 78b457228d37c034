import Testing

@testable import RillChaosRunner

@Suite struct NetnsLayoutTests {
    let layout = NetnsLayout(tag: "4242", nodes: 3, subnet: (a: 231, b: 7))

    @Test func namesFitLinuxInterfaceNamesAndAddressesShareOneSubnet() {
        #expect(layout.namespace(0) == "rillchaos-4242-n1")
        for name in [layout.bridge, layout.hostVeth(2), layout.nodeVeth(2)] { #expect(name.utf8.count <= 15) }
        #expect(NetnsLayout(tag: "999999999", nodes: 5, subnet: (a: 200, b: 0)).hostVeth(4).utf8.count <= 15)
        #expect((0..<3).map(layout.address) == ["10.231.7.1", "10.231.7.2", "10.231.7.3"])
        #expect(layout.gateway == "10.231.7.254")
    }

    @Test func setupBuildsTheBridgeFirstAndEveryNodeItsOwnNamespace() {
        let setup = layout.setup
        #expect(setup.first == ["link", "add", "rc4242br", "type", "bridge"])
        #expect(setup.filter { $0.starts(with: ["netns", "add"]) }.map { $0[2] } == (0..<3).map(layout.namespace))
        #expect(setup.contains(["-n", "rillchaos-4242-n2", "addr", "add", "10.231.7.2/24", "dev", "eth0"]))
        #expect(setup.contains(["-n", "rillchaos-4242-n3", "link", "set", "lo", "up"]))
        #expect(setup.contains(["link", "set", "rc4242v1", "master", "rc4242br"]))
        #expect(layout.teardown.last == ["link", "delete", "rc4242br"])
        #expect(layout.teardown.filter { $0.starts(with: ["netns", "delete"]) }.count == 3)
    }

    @Test func cutsDropPeersOnlyAndOneWayLeavesInboundAlone() {
        let both = layout.cut(0, from: [1, 2], inbound: true)
        #expect(Array(both.prefix(4)) == ["netns", "exec", "rillchaos-4242-n1", "nft"])
        let script = both[4]
        #expect(script.contains("output ip daddr 10.231.7.2 drop") && script.contains("input ip saddr 10.231.7.3 drop"))
        #expect(!script.contains("10.231.7.254"))
        let oneWay = layout.cut(2, from: [0], inbound: false)[4]
        #expect(oneWay.contains("output ip daddr 10.231.7.1 drop") && !oneWay.contains("saddr"))
        #expect(layout.uncut(2) == ["netns", "exec", "rillchaos-4242-n3", "nft", "delete table inet rillchaos"])
        #expect(layout.link(1, up: false) == ["link", "set", "rc4242v2", "down"])
        #expect(layout.netemDelay(0, fixedMillis: 80, jitterMillis: 20).suffix(3) == ["delay", "80ms", "20ms"])
    }

    @Test func leftoversAreKnownByThePidInTheirName() {
        #expect(NetnsLayout.ownerPID(ofNamespace: "rillchaos-4242-n3") == 4242)
        #expect(NetnsLayout.ownerPID(ofNamespace: "rillchaos-probe-17") == nil)
        #expect(NetnsLayout.ownerPID(ofNamespace: "other-4242-n1") == nil)
    }

    @Test func aSubnetInUseOnTheHostIsSkipped() {
        let first = NetnsLayout.freeSubnet(tag: "0", inUse: [])
        #expect(first?.a == 200 && first?.b == 0)
        let next = NetnsLayout.freeSubnet(tag: "0", inUse: ["10.200.0.5/24", "192.0.2.2/24"])
        #expect(next?.a == 200 && next?.b == 1)
    }
}

@Suite struct ChaosTargetTests {
    @Test(arguments: [
        ("http://127.0.0.1:4567", "127.0.0.1", 4567), ("http://10.1.2.3:80/", "10.1.2.3", 80),
        ("localhost:9000", "localhost", 9000), ("http://[::1]:4567", "::1", 4567),
    ])
    func endpointsParse(text: String, host: String, port: Int) {
        #expect(APIAddress(url: text) == APIAddress(host: host, port: port))
    }

    @Test(arguments: ["", "http://host", "https://h:1", "h:0", "h:70000", "http://h:1/x", ":80"])
    func badEndpointsAreRefused(text: String) {
        #expect(APIAddress(url: text) == nil)
    }

    @Test func anEndpointRunTakesOnlyFaultHookKinds() {
        var configuration = ChaosConfiguration(outDirectory: .init(fileURLWithPath: "/tmp/x"), binary: "rill")
        configuration.endpoints = ["http://127.0.0.1:4567"]
        configuration.faults = [.partition, .clock, .delay]
        #expect(configuration.problem == nil)
        configuration.faults = [.partition, .kill, .disk]
        #expect(configuration.problem?.contains("kill,disk cannot run against --endpoint") == true)
        configuration.faults = [.netpartition]
        #expect(configuration.problem != nil)
        configuration.faults = [.delay]
        configuration.netns = true
        #expect(configuration.problem?.contains("--netns") == true)
        configuration.endpoints = ["ftp://x"]
        configuration.netns = false
        #expect(configuration.problem?.contains("not http://host:port") == true)
    }

    @Test func aRouterIsKnownByItsRoleWhateverItsID() throws {
        // Router ids are random UInt64s; this one is past Int.max.
        let router = try jsonObject(#"{"node":16228767609407562128,"role":"router","groups":[]}"#)
        #expect(NodeStatus(router)?.role == "router")
        let node = try jsonObject(#"{"node":2,"groups":[]}"#)
        #expect(NodeStatus(node)?.node == 2 && NodeStatus(node)?.role == nil)
        #expect(NodeStatus(try jsonObject(#"{"node":16228767609407562128,"groups":[]}"#)) == nil)
    }

    @Test func aNetworkCutNeedsNamespaces() {
        var configuration = ChaosConfiguration(outDirectory: .init(fileURLWithPath: "/tmp/x"), binary: "rill")
        configuration.faults = [.kill, .netpartition]
        #expect(configuration.problem?.contains("needs --netns") == true)
        configuration.netns = true
        #expect(configuration.problem == nil)
    }
}
