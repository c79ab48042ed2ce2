// `Model.record` (the per-step hidden states, cell states and gates of one layer) against an
// independent float64 recording written from PyTorch's equations, for every cell, one and two
// layers (each layer recorded), one and two directions, features and tokens, with initial
// states and uneven lengths whose padding holds random data. The recording reference is
// itself checked against `ReferenceRNN` (its final states must equal the reference's), so it
// cannot drift from the equations the rest of the suite trusts.
//
// Tolerance: the same reasoning as ForwardReferenceTests (float32 engine against a float64
// reference on float-representable inputs: errors ~1e-6, bugs >= 1e-2), so 1e-5 scaled.

import Foundation
import Testing

@testable import SeqRNN

/// What the float64 reference records for one layer, in `Recording`'s layouts.
private struct ReferenceRecording {
  var hidden: [Double]
  var cell: [Double]
  var gates: [Double]
  /// `[L*D][B][H]` final hidden states of all layers, to check against `ReferenceRNN`.
  var finalH: [Double]
}

/// Runs the model one sequence and one step at a time and records layer `recorded`.
private func referenceRecord(
  _ cfg: ModelConfiguration, _ parameters: [String: [Double]], _ batch: Batch, layer recorded: Int
) -> ReferenceRecording {
  let (bs, seqLen, hidden, d) = (batch.batchSize, batch.seqLen, cfg.hiddenSize, cfg.directions)
  let g = cfg.recordedGateCount
  let width = cfg.embeddingOrInputSize
  var out = ReferenceRecording(
    hidden: Array(repeating: 0, count: bs * seqLen * d * hidden),
    cell: Array(repeating: 0, count: cfg.cell == .lstm ? bs * seqLen * d * hidden : 0),
    gates: Array(repeating: 0, count: bs * seqLen * d * g * hidden),
    finalH: Array(repeating: 0, count: cfg.stateCount(batchSize: bs)))
  let sigmoid = ReferenceRNN.sigmoid
  for b in 0..<bs {
    let length = batch.lengths?[b] ?? seqLen
    var layerInput: [[Double]] = (0..<length).map { t in
      if let tokens = batch.tokens {
        let id = Int(tokens[b * seqLen + t])
        return Array(parameters["embedding.weight"]![(id * width)..<((id + 1) * width)])
      }
      let start = (b * seqLen + t) * width
      return batch.features![start..<(start + width)].map { Double($0) }
    }
    for layer in 0..<cfg.numLayers {
      var layerOutput = [[Double]](repeating: [], count: length)
      for t in 0..<length { layerOutput[t] = Array(repeating: 0, count: d * hidden) }
      for direction in 0..<d {
        let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        let wih = parameters["rnn.weight_ih" + suffix]!
        let whh = parameters["rnn.weight_hh" + suffix]!
        let bih = parameters["rnn.bias_ih" + suffix]!
        let bhh = parameters["rnn.bias_hh" + suffix]!
        let stateOffset = ((layer * d + direction) * bs + b) * hidden
        var h = (0..<hidden).map { Double(batch.initialH?[stateOffset + $0] ?? 0) }
        var c = (0..<hidden).map { Double(batch.initialC?[stateOffset + $0] ?? 0) }
        let steps = direction == 0 ? Array(0..<length) : Array((0..<length).reversed())
        for t in steps {
          let x = layerInput[t]
          let rows = cfg.cell.gateCount * hidden
          // xPart = W_ih x + b_ih, hPart = W_hh h + b_hh, each [G*H].
          var xPart = bih
          var hPart = bhh
          for r in 0..<rows {
            for k in 0..<x.count { xPart[r] += wih[r * x.count + k] * x[k] }
            for k in 0..<hidden { hPart[r] += whh[r * hidden + k] * h[k] }
          }
          var activations = [Double](repeating: 0, count: g * hidden)
          for j in 0..<hidden {
            let pre = { (gate: Int) in xPart[gate * hidden + j] + hPart[gate * hidden + j] }
            switch cfg.cell {
            case .rnnTanh: h[j] = tanh(pre(0))
            case .rnnRelu: h[j] = max(0, pre(0))
            case .lstm:
              let (i, f, cand, o) = (
                sigmoid(pre(0)), sigmoid(pre(1)), tanh(pre(2)), sigmoid(pre(3))
              )
              c[j] = f * c[j] + i * cand
              h[j] = o * tanh(c[j])
              for (k, v) in [i, f, cand, o].enumerated() { activations[k * hidden + j] = v }
            case .gru:
              let (r, z) = (sigmoid(pre(0)), sigmoid(pre(1)))
              let n = tanh(xPart[2 * hidden + j] + r * hPart[2 * hidden + j])
              h[j] = (1 - z) * n + z * h[j]
              for (k, v) in [r, z, n].enumerated() { activations[k * hidden + j] = v }
            }
          }
          for j in 0..<hidden { layerOutput[t][direction * hidden + j] = h[j] }
          if layer == recorded {
            let position = b * seqLen + t
            for j in 0..<hidden {
              out.hidden[position * d * hidden + direction * hidden + j] = h[j]
              if cfg.cell == .lstm {
                out.cell[position * d * hidden + direction * hidden + j] = c[j]
              }
            }
            for k in 0..<(g * hidden) {
              out.gates[(position * d + direction) * g * hidden + k] = activations[k]
            }
          }
        }
        for j in 0..<hidden { out.finalH[stateOffset + j] = h[j] }
      }
      layerInput = layerOutput
    }
  }
  return out
}

private func expectClose(
  _ got: [Float], _ expected: [Double], _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let scale = max(1, maxAbs(expected))
  if let mismatch = compare(
    got.map { Double($0) }, expected, absolute: 1e-5 * scale, relative: 1e-5)
  {
    fail("\(what): \(mismatch)", sourceLocation: sourceLocation)
  }
}

/// One recording combination.
struct RecordCase: Sendable, CustomTestStringConvertible {
  var cell: CellType
  var layers: Int
  var bidirectional: Bool
  var tokens: Bool

  var testDescription: String {
    "\(cell.name) L\(layers) \(bidirectional ? "bi" : "uni") \(tokens ? "tokens" : "features")"
  }

  static let lengths = [5, 7, 1, 3]
  static let seqLen = 7

  var configuration: ModelConfiguration {
    ModelConfiguration(
      cell: cell, inputSize: tokens ? 6 : 5, vocabSize: tokens ? 11 : 0, hiddenSize: 13,
      numLayers: layers, bidirectional: bidirectional, outputSize: 3)
  }

  static let all: [RecordCase] = CellType.allCases.flatMap { cell in
    [1, 2].flatMap { layers in
      [false, true].flatMap { bi in
        [false, true].map { RecordCase(cell: cell, layers: layers, bidirectional: bi, tokens: $0) }
      }
    }
  }
}

@Suite("Recording hidden states, cell states and gates")
struct RecordTests {
  @Test("every layer's states and gates match the float64 reference", arguments: RecordCase.all)
  func matchesReference(_ c: RecordCase) throws {
    let cfg = c.configuration
    var rng = SeededRNG(
      seed: 4_400 + UInt64(cfg.cell.rawValue) * 16 + UInt64(c.layers) * 4
        + (c.bidirectional ? 2 : 0) + (c.tokens ? 1 : 0))
    let parameters = randomParameters(cfg, scale: .pytorchLike, rng: &rng)
      .mapValues(roundedToFloat)
    let batch = makeBatch(
      cfg, lengths: RecordCase.lengths, seqLen: RecordCase.seqLen, initialState: true,
      targets: false, rng: &rng
    ).batch
    let model = try makeModel(cfg, parameters)
    let forward = try model.forward(batch)
    let reference = try ReferenceRNN.run(
      configuration: cfg, parameters: parameters, batch: batch)
    let (h, d, t) = (cfg.hiddenSize, cfg.directions, RecordCase.seqLen)
    for layer in 0..<c.layers {
      let label = "\(c.testDescription) layer \(layer)"
      let expected = referenceRecord(cfg, parameters, batch, layer: layer)
      // The recording reference agrees with the suite's reference implementation.
      #expect(
        compare(expected.finalH, reference.finalH, absolute: 1e-12, relative: 1e-12) == nil,
        "\(label): recording reference disagrees with ReferenceRNN")

      let recording = try model.record(batch, layer: layer)
      #expect(recording.layer == layer && recording.batchSize == 4 && recording.seqLen == t)
      #expect(recording.directions == d && recording.hiddenSize == h)
      #expect(recording.gateCount == cfg.recordedGateCount)
      expectClose(recording.hidden, expected.hidden, "\(label) hidden")
      switch cfg.cell {
      case .lstm:
        expectClose(recording.cell ?? [], expected.cell, "\(label) cell")
        expectClose(recording.gates ?? [], expected.gates, "\(label) gates")
        #expect(recording.gateCount == 4)
      case .gru:
        #expect(recording.cell == nil, "\(label): GRU has no cell state")
        expectClose(recording.gates ?? [], expected.gates, "\(label) gates")
        #expect(recording.gateCount == 3)
      case .rnnTanh, .rnnRelu:
        #expect(recording.cell == nil && recording.gates == nil && recording.gateCount == 0)
      }

      // The last valid step (forward) and step 0 (backward) hold forward()'s final states
      // exactly: both are copies of the same tape.
      for (b, length) in RecordCase.lengths.enumerated() {
        for direction in 0..<d {
          let step = direction == 0 ? length - 1 : 0
          let start = ((b * t + step) * d + direction) * h
          let finalStart = ((layer * d + direction) * 4 + b) * h
          #expect(
            Array(recording.hidden[start..<(start + h)])
              == Array(forward.finalH[finalStart..<(finalStart + h)]),
            "\(label): hidden at the last step of sequence \(b) direction \(direction) is not final_h"
          )
          if let cell = recording.cell, let finalC = forward.finalC {
            #expect(
              Array(cell[start..<(start + h)]) == Array(finalC[finalStart..<(finalStart + h)]),
              "\(label): cell at the last step of sequence \(b) is not final_c")
          }
        }
        // Padding is exactly zero in every buffer.
        let per = d * h
        let padded = (b * t + length) * per..<((b + 1) * t * per)
        #expect(recording.hidden[padded].allSatisfy { $0 == 0 }, "\(label): hidden padding")
        if let cell = recording.cell {
          #expect(cell[padded].allSatisfy { $0 == 0 }, "\(label): cell padding")
        }
        if let gates = recording.gates {
          let g = recording.gateCount
          let range = (b * t + length) * per * g..<((b + 1) * t * per * g)
          #expect(gates[range].allSatisfy { $0 == 0 }, "\(label): gates padding")
        }
      }
      // The top layer's hidden states are what the head reads: a sequence model's outputs.
      if layer == c.layers - 1 {
        let w = try model.tensor(named: "head.weight")
        let bias = try model.tensor(named: "head.bias")
        for position in [0, 4, 9] {  // (b 0, t 0), (b 0, t 4), (b 1, t 2): valid steps
          for o in 0..<3 {
            var sum = Double(bias[o])
            for k in 0..<(d * h) {
              sum += Double(w[o * d * h + k]) * Double(recording.hidden[position * d * h + k])
            }
            let got = Double(forward.outputs[position * 3 + o])
            #expect(abs(got - sum) <= 1e-5, "\(label): head(hidden) != outputs at \(position)")
          }
        }
      }
    }
  }

  @Test("record sizes")
  func sizes() {
    let lstm = ModelConfiguration(cell: .lstm, inputSize: 2, hiddenSize: 5, bidirectional: true)
    #expect(
      lstm.recordSizes(batchSize: 3, seqLen: 4)
        == RecordSizes(hidden: 120, cell: 120, gates: 480, gateCount: 4))
    let gru = ModelConfiguration(cell: .gru, inputSize: 2, hiddenSize: 5)
    #expect(
      gru.recordSizes(batchSize: 3, seqLen: 4)
        == RecordSizes(hidden: 60, cell: 0, gates: 180, gateCount: 3))
    let rnn = ModelConfiguration(cell: .rnnRelu, inputSize: 2, hiddenSize: 5)
    #expect(
      rnn.recordSizes(batchSize: 3, seqLen: 4)
        == RecordSizes(hidden: 60, cell: 0, gates: 0, gateCount: 0))
  }

  @Test("bad requests throw clear errors")
  func badRequests() throws {
    let cfg = ModelConfiguration(cell: .gru, inputSize: 2, hiddenSize: 4, numLayers: 2)
    let model = try Model(cfg)
    let batch = Batch(batchSize: 1, seqLen: 3, features: [Float](repeating: 0.5, count: 6))
    for layer in [-1, 2, 100] {
      #expect {
        _ = try model.record(batch, layer: layer)
      } throws: { error in
        guard case .outOfRange(let message) = error as? SeqRNNError else { return false }
        return message.contains("layer = \(layer)") && message.contains("num_layers = 2")
      }
    }
    // Wrong input sizes: the errors of forward.
    #expect(throws: SeqRNNError.self) {
      _ = try model.record(Batch(batchSize: 1, seqLen: 3, features: [0.5]), layer: 0)
    }
    #expect(throws: SeqRNNError.self) {
      _ = try model.record(
        Batch(batchSize: 1, seqLen: 3, features: [Float](repeating: .nan, count: 6)), layer: 0)
    }
    // The pointer form refuses buffers that do not apply to the cell.
    var scratch = [Float](repeating: 0, count: 100)
    try batch.withEngineInput(cfg, needTargets: false) { (input) throws(SeqRNNError) in
      try scratch.withUnsafeMutableBufferPointer { (p) throws(SeqRNNError) in
        #expect(throws: SeqRNNError.self) {
          try model.record(input, layer: 0, hidden: nil, cell: p.baseAddress, gates: nil)
        }
        try model.record(input, layer: 1, hidden: nil, cell: nil, gates: p.baseAddress)
      }
    }
    #expect(scratch[0..<36].contains { $0 != 0 } && scratch[36...].allSatisfy { $0 == 0 })
    let rnn = try Model(ModelConfiguration(cell: .rnnTanh, inputSize: 2, hiddenSize: 4))
    _ = try batch.withEngineInput(rnn.configuration, needTargets: false) {
      (input) throws(SeqRNNError) in
      try scratch.withUnsafeMutableBufferPointer { (p) throws(SeqRNNError) in
        #expect {
          try rnn.record(input, layer: 0, hidden: nil, cell: nil, gates: p.baseAddress)
        } throws: { error in
          guard case .unsupported(let message) = error as? SeqRNNError else { return false }
          return message.contains("no gates")
        }
      }
    }
  }
}
