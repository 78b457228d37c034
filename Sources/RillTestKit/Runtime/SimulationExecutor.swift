import Synchronization

extension Simulation {
    /// Runs a world's tasks on the thread that drives the world, one job at a time in the order they were
    /// enqueued, so a seed replays the same interleaving of the real drivers' tasks (FoundationDB's and
    /// TigerBeetle's deterministic simulation; swift-nio's `EmbeddedEventLoop` for the idea of running by hand).
    ///
    /// Tasks reach it as their executor preference (`Task(executorPreference:)`, and the drivers'
    /// `taskExecutor`); the drivers are default actors, which run on their callers' preferred executor, so every
    /// job of a world lands here and nothing runs on the global pool. `run(_:)` starts a task and runs jobs until
    /// none is left, then hands back what the task returned.
    final class Executor: TaskExecutor {
        /// Jobs not yet run, oldest first; `head` is the next. Only the world's thread touches it in practice,
        /// the lock keeps `enqueue` honest if anything ever calls it from elsewhere.
        private let queue = Mutex<(jobs: [UnownedJob], head: Int)>(([], 0))

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.withLock { $0.jobs.append(job) }
        }

        private func next() -> UnownedJob? {
            queue.withLock { queue in
                guard queue.head < queue.jobs.count else {
                    queue.jobs.removeAll(keepingCapacity: true)
                    queue.head = 0
                    return nil
                }
                defer { queue.head += 1 }
                return queue.jobs[queue.head]
            }
        }

        /// Runs jobs until none is queued: every task of the world is then suspended on something only the
        /// world can provide (a message, a tick, a flush round, the clock).
        func runUntilIdle() {
            // Bounded: each job runs a task to its next suspension, and only the world's events enqueue new work.
            while let job = next() { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }

        /// Runs `body` as a task on this executor until the world is idle and returns its result; traps if it
        /// did not finish, since then it waits for something the world has not done (a bug in the world).
        func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
            let result = Mutex<T?>(nil)
            let task = Task(executorPreference: self) {
                let value = await body()
                result.withLock { $0 = value }
            }
            runUntilIdle()
            guard let value = result.withLock({ $0 }) else {
                task.cancel()
                preconditionFailure("a simulation task did not finish while the world was idle")
            }
            return value
        }
    }
}
