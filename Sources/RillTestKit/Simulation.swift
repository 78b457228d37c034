/// The simulated world: seeded network, manual clock and a disk that loses unsynced writes.
public enum Simulation {}
