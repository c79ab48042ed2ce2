// Layer 0's per-token projection table (Engine/TokenProjections.swift) must give what the GEMM
// path gives and must never outlive the weights it was built from.
//
// With 50 tokens and 5 positions per call, a model's first call at a weights version takes the
// GEMM path (too few positions to build the table) and its second builds and uses the table. So
// `first` is the exact GEMM answer and `second` the table's; they may differ only by float32
// rounding (the table's projections come from a GEMM of other shape). After every kind of write
// to the weights, the next call must equal a fresh model's (GEMM path) on the same weights bit
// for bit: a stale table would give the old weights' projections, off by O(1).

import Testing

@testable import SeqRNN

@Suite("token projection table")
struct TokenProjectionTests {
  static func model(_ cell: CellType, bidirectional: Bool = true) throws -> Model {
    var config = ModelConfiguration(
      cell: cell, inputSize: 0, vocabSize: 50, hiddenSize: 24, numLayers: 2,
      bidirectional: bidirectional, outputSize: 50, outputMode: .sequence, loss: .crossEntropy)
    config.seed = 3
    return try Model(config)
  }

  static let batch = Batch(
    batchSize: 1, seqLen: 5, tokens: [3, 17, 42, 0, 9], targetClasses: [1, 2, 3, 4, 5])

  /// A model with the same weights and an empty table cache.
  static func fresh(_ model: Model) throws -> Model {
    let copy = try Model(model.configuration)
    for info in model.tensorInfos {
      try copy.setTensor(named: info.name, try model.tensor(named: info.name))
    }
    return copy
  }

  static func expectClose(_ a: [Float], _ b: [Float], _ what: String) {
    let scale = b.map { abs($0) }.max() ?? 0
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-5 * scale + 1e-6, "\(what): differs by \(worst) (scale \(scale))")
  }

  @Test("the table gives the GEMM path's outputs", arguments: CellType.allCases)
  func tableMatchesGemm(_ cell: CellType) throws {
    let model = try Self.model(cell)
    let first = try model.forward(Self.batch).outputs
    let second = try model.forward(Self.batch).outputs
    Self.expectClose(second, first, "\(cell.name) table vs GEMM")
  }

  @Test(
    "every write to the weights retires the table", arguments: ["setTensor", "trainer", "restore"])
  func writesRetireTheTable(_ write: String) throws {
    let model = try Self.model(.lstm)
    let stopper = try EarlyStopping(mode: .minimize, patience: 3)
    try stopper.update(1.0, model: model)
    _ = try model.forward(Self.batch)
    let before = try model.forward(Self.batch).outputs  // table of version 0
    switch write {
    case "setTensor":
      var w = try model.tensor(named: "rnn.weight_ih_l0")
      for i in w.indices { w[i] *= -1.5 }
      try model.setTensor(named: "rnn.weight_ih_l0", w)
    case "trainer":
      let trainer = try Trainer(model: model)
      for _ in 0..<3 { _ = try trainer.step(Self.batch) }
    default:
      var e = try model.tensor(named: "embedding.weight")
      for i in e.indices { e[i] += 0.5 }
      try model.setTensor(named: "embedding.weight", e)
      _ = try model.forward(Self.batch)
      _ = try model.forward(Self.batch)  // a table for the changed weights
      try stopper.restore(into: model)  // back to version 0's weights
    }
    let after = try model.forward(Self.batch).outputs
    let truth = try Self.fresh(model).forward(Self.batch).outputs
    let stale = zip(after, truth).filter { $0 != $1 }.count
    #expect(stale == 0, "\(write): \(stale) outputs differ from fresh weights' (a stale table)")
    if write != "restore" { #expect(after != before, "\(write) did not change the outputs") }
    Self.expectClose(try model.forward(Self.batch).outputs, truth, "\(write): rebuilt table")
  }

  @Test("streaming uses the table and follows writes")
  func streaming() throws {
    let model = try Self.model(.gru, bidirectional: false)
    let whole = try Self.fresh(model).forward(Self.batch).outputs
    let state = try StreamingState(model: model, batchSize: 1)
    var stepped: [Float] = []
    for token in Self.batch.tokens! { stepped += try state.step(tokens: [token]) }
    Self.expectClose(stepped, whole, "stream vs whole sequence")
    var w = try model.tensor(named: "rnn.weight_ih_l0")
    for i in w.indices { w[i] = -w[i] }
    try model.setTensor(named: "rnn.weight_ih_l0", w)
    let changed = try Self.fresh(model).forward(Self.batch).outputs
    let again = try StreamingState(model: model, batchSize: 1)
    var restepped: [Float] = []
    for token in Self.batch.tokens! { restepped += try again.step(tokens: [token]) }
    Self.expectClose(restepped, changed, "stream after a write")
  }
}
