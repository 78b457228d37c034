import RillModel

/// This node cannot serve the call here: another node leads the group (or none does yet). Nothing was
/// proposed, so the one forwarder may send the call on (ARCHITECTURE.md, "One forwarder").
package struct Redirect: Error {
    package var hint: NodeID?

    package init(hint: NodeID?) {
        self.hint = hint
    }
}
