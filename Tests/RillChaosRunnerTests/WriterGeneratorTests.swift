import RillModel
import Testing

@testable import RillChaosRunner

/// Writers must choose independently: correlated choices send every writer to the same node at once, and a fault
/// on that node then holds them all (the chaos tool's outages measured the writers, not the cluster).
@Suite struct WriterGeneratorTests {
    private func draws(_ process: Int, seed: UInt64 = 7, count: Int = 64) -> [UInt64] {
        var generator = Writer.generator(seed: seed, process: process)
        return (0..<count).map { _ in generator.next() }
    }

    @Test func noWritersDrawsAreAnotherWritersShifted() {
        let all = (1...8).map { draws($0) }
        for a in all.indices {
            for b in all.indices where a != b {
                // The old seeding made writer p's draw k writer q's draw k + (p - q): any shared value shows it.
                #expect(Set(all[a]).isDisjoint(with: all[b]), "writers \(a + 1) and \(b + 1) share draws")
            }
        }
    }

    @Test func writersPickNodesIndependently() {
        // Eight writers choosing one of three nodes for 200 calls: with independent choices they agree on a node
        // about a third of the time pairwise (1/3), not always.
        let picks = (1...8).map { process -> [Int] in
            var generator = Writer.generator(seed: 11, process: process)
            return (0..<200).map { _ in Int(generator.next() % 3) }
        }
        for a in 0..<8 {
            for b in (a + 1)..<8 {
                let same = zip(picks[a], picks[b]).filter { $0 == $1 }.count
                #expect((30...110).contains(same), "writers \(a + 1) and \(b + 1) agreed \(same) times of 200")
            }
        }
    }

    @Test func theSameSeedReplaysTheSameChoices() {
        #expect(draws(3) == draws(3))
        #expect(draws(3, seed: 7) != draws(3, seed: 8))
    }
}
