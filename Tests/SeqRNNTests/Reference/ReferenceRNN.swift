// An independent, deliberately plain reference implementation of seqrnn's models in
// Double precision: one sequence at a time, one step at a time, explicit loops, no BLAS,
// nothing shared with the optimized engine except the public configuration types.
//
// Equations are PyTorch's (torch.nn.RNN / LSTM / GRU documentation):
//   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu
//   LSTM: i = σ(W_ii x + b_ii + W_hi h + b_hi)     gate block 0
//         f = σ(W_if x + b_if + W_hf h + b_hf)     gate block 1
//         g = tanh(W_ig x + b_ig + W_hg h + b_hg)  gate block 2
//         o = σ(W_io x + b_io + W_ho h + b_ho)     gate block 3
//         c' = f * c + i * g,  h' = o * tanh(c')
//   GRU:  r = σ(W_ir x + b_ir + W_hr h + b_hr)     gate block 0
//         z = σ(W_iz x + b_iz + W_hz h + b_hz)     gate block 1
//         n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  gate block 2
//         h' = (1 - z) * n + z * h
// Layer k > 0 reads [forward h, backward h] of layer k - 1 at the same step. The backward
// direction of a sequence of length L runs t = L-1 ... 0 from its initial state. The head is
// `logits = head.weight · feature + head.bias`, with feature = the top layer's output at each
// valid step (sequence mode; zero past the length) or [forward h at L-1, backward h at 0]
// (last mode).

import Foundation
import SeqRNN

struct ReferenceError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// What the reference computes for one batch.
struct ReferenceResult {
  /// `[B][T][O]` (zeros past each length) or `[B][O]`.
  var outputs: [Double]
  /// `[L*D][B][H]`, state after each sequence's last valid step (backward: after step 0).
  var finalH: [Double]
  /// Same layout, LSTM only.
  var finalC: [Double]?
  /// Mean loss over valid positions (times outputSize for MSE); nil without targets.
  var loss: Double?
  /// Valid positions the loss is a mean over (not multiplied by outputSize).
  var count: Int
  /// Cross-entropy only: fraction of valid positions whose argmax is the target.
  var accuracy: Double?
  /// Cross-entropy only: smallest gap between the best and second-best logit over valid
  /// positions (an accuracy comparison is meaningful only if this is not tiny).
  var smallestTopGap: Double?
  /// Relu models only: smallest |pre-activation| over every valid step and unit
  /// (finite differences need to stay away from the kink at 0). Infinity otherwise.
  var smallestReluPreactivation: Double
  /// Relu models only: for each layer, direction and unit (`[L*D][H]`), at how many valid
  /// steps of the batch the unit is active (pre-activation > 0).
  var reluActiveCounts: [Int]
  /// Relu models only: how many (step, unit) pre-activations are negative.
  var reluInactiveCount: Int
}

enum ReferenceRNN {
  static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

  /// One step of one cell for one sequence. `gatesIH`, `gatesHH` are the two affine parts.
  static func step(
    cell: CellType, hidden: Int, x: [Double], h: [Double], c: [Double],
    weightIH: [Double], weightHH: [Double], biasIH: [Double], biasHH: [Double],
    smallestRelu: inout Double, active: inout [Int], inactive: inout Int, activeOffset: Int
  ) -> (h: [Double], c: [Double]) {
    let rows = cell.gateCount * hidden
    let inputSize = x.count
    var gatesIH = [Double](repeating: 0, count: rows)
    var gatesHH = [Double](repeating: 0, count: rows)
    for row in 0..<rows {
      var sum = biasIH[row]
      for k in 0..<inputSize { sum += weightIH[row * inputSize + k] * x[k] }
      gatesIH[row] = sum
      var recurrent = biasHH[row]
      for k in 0..<hidden { recurrent += weightHH[row * hidden + k] * h[k] }
      gatesHH[row] = recurrent
    }
    var newH = [Double](repeating: 0, count: hidden)
    var newC = c
    for j in 0..<hidden {
      switch cell {
      case .rnnTanh:
        newH[j] = tanh(gatesIH[j] + gatesHH[j])
      case .rnnRelu:
        let pre = gatesIH[j] + gatesHH[j]
        smallestRelu = min(smallestRelu, abs(pre))
        if pre > 0 { active[activeOffset + j] += 1 } else { inactive += 1 }
        newH[j] = max(0, pre)
      case .lstm:
        let i = sigmoid(gatesIH[j] + gatesHH[j])
        let f = sigmoid(gatesIH[hidden + j] + gatesHH[hidden + j])
        let g = tanh(gatesIH[2 * hidden + j] + gatesHH[2 * hidden + j])
        let o = sigmoid(gatesIH[3 * hidden + j] + gatesHH[3 * hidden + j])
        newC[j] = f * c[j] + i * g
        newH[j] = o * tanh(newC[j])
      case .gru:
        let r = sigmoid(gatesIH[j] + gatesHH[j])
        let z = sigmoid(gatesIH[hidden + j] + gatesHH[hidden + j])
        let n = tanh(gatesIH[2 * hidden + j] + r * gatesHH[2 * hidden + j])
        newH[j] = (1 - z) * n + z * h[j]
      }
    }
    return (newH, newC)
  }

  /// Runs the model described by `configuration` and `parameters` on `batch`.
  /// `features` (batch-major `[B][T][I]`) replaces `batch.features` when given.
  static func run(
    configuration: ModelConfiguration, parameters: [String: [Double]], batch: Batch,
    features: [Double]? = nil
  ) throws -> ReferenceResult {
    let cfg = configuration
    let hidden = cfg.hiddenSize
    let directions = cfg.bidirectional ? 2 : 1
    let batchSize = batch.batchSize
    let seqLen = batch.seqLen
    let outputSize = cfg.outputSize
    let usesTokens = cfg.vocabSize > 0
    let inputWidth = usesTokens ? (cfg.inputSize == 0 ? hidden : cfg.inputSize) : cfg.inputSize

    func tensor(_ name: String, _ count: Int) throws -> [Double] {
      guard let values = parameters[name] else { throw ReferenceError("missing tensor \(name)") }
      guard values.count == count else {
        throw ReferenceError("tensor \(name) has \(values.count) values, expected \(count)")
      }
      return values
    }

    // Inputs, as Double.
    var featureValues: [Double] = []
    var tokens: [Int32] = []
    if usesTokens {
      guard let t = batch.tokens, t.count == batchSize * seqLen else {
        throw ReferenceError("tokens missing or of the wrong size")
      }
      tokens = t
    } else if let features {
      featureValues = features
    } else if let f = batch.features {
      featureValues = f.map { Double($0) }
    } else {
      throw ReferenceError("features missing")
    }
    if !usesTokens && featureValues.count != batchSize * seqLen * inputWidth {
      throw ReferenceError("features have \(featureValues.count) values")
    }
    let lengths = batch.lengths ?? [Int](repeating: seqLen, count: batchSize)
    guard lengths.count == batchSize, lengths.allSatisfy({ $0 >= 1 && $0 <= seqLen }) else {
      throw ReferenceError("bad lengths \(lengths)")
    }
    let stateCount = cfg.numLayers * directions * batchSize * hidden
    let initialH = batch.initialH.map { $0.map { Double($0) } }
    let initialC = batch.initialC.map { $0.map { Double($0) } }
    if let initialH, initialH.count != stateCount { throw ReferenceError("initialH size") }
    if let initialC, initialC.count != stateCount { throw ReferenceError("initialC size") }

    let embedding = usesTokens ? try tensor("embedding.weight", cfg.vocabSize * inputWidth) : []
    let headWeight = try tensor("head.weight", outputSize * directions * hidden)
    let headBias = try tensor("head.bias", outputSize)

    let outputCount =
      cfg.outputMode == .sequence ? batchSize * seqLen * outputSize : batchSize * outputSize
    var outputs = [Double](repeating: 0, count: outputCount)
    var finalH = [Double](repeating: 0, count: stateCount)
    var finalC = [Double](repeating: 0, count: stateCount)
    var smallestRelu = Double.infinity
    var reluActive = [Int](repeating: 0, count: cfg.numLayers * directions * hidden)
    var reluInactive = 0

    for b in 0..<batchSize {
      let length = lengths[b]
      // The inputs of the first layer at the valid steps.
      var layerInput: [[Double]] = []
      for t in 0..<length {
        if usesTokens {
          let id = Int(tokens[b * seqLen + t])
          guard id >= 0 && id < cfg.vocabSize else { throw ReferenceError("token \(id)") }
          layerInput.append(Array(embedding[(id * inputWidth)..<((id + 1) * inputWidth)]))
        } else {
          let start = (b * seqLen + t) * inputWidth
          layerInput.append(Array(featureValues[start..<(start + inputWidth)]))
        }
      }
      for layer in 0..<cfg.numLayers {
        let inputSize = layer == 0 ? inputWidth : directions * hidden
        let gateRows = cfg.cell.gateCount * hidden
        var layerOutput = [[Double]](
          repeating: [Double](repeating: 0, count: directions * hidden), count: length)
        for direction in 0..<directions {
          let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
          let weightIH = try tensor("rnn.weight_ih" + suffix, gateRows * inputSize)
          let weightHH = try tensor("rnn.weight_hh" + suffix, gateRows * hidden)
          let biasIH = try tensor("rnn.bias_ih" + suffix, gateRows)
          let biasHH = try tensor("rnn.bias_hh" + suffix, gateRows)
          let stateOffset = ((layer * directions + direction) * batchSize + b) * hidden
          var h = [Double](repeating: 0, count: hidden)
          var c = [Double](repeating: 0, count: hidden)
          for j in 0..<hidden {
            h[j] = initialH?[stateOffset + j] ?? 0
            c[j] = initialC?[stateOffset + j] ?? 0
          }
          let order: [Int] = direction == 0 ? Array(0..<length) : Array((0..<length).reversed())
          for t in order {
            (h, c) = step(
              cell: cfg.cell, hidden: hidden, x: layerInput[t], h: h, c: c, weightIH: weightIH,
              weightHH: weightHH, biasIH: biasIH, biasHH: biasHH, smallestRelu: &smallestRelu,
              active: &reluActive, inactive: &reluInactive,
              activeOffset: (layer * directions + direction) * hidden)
            for j in 0..<hidden { layerOutput[t][direction * hidden + j] = h[j] }
          }
          for j in 0..<hidden {
            finalH[stateOffset + j] = h[j]
            finalC[stateOffset + j] = c[j]
          }
        }
        layerInput = layerOutput
      }
      // The head.
      func head(_ feature: [Double]) -> [Double] {
        (0..<outputSize).map { o in
          var sum = headBias[o]
          for k in 0..<feature.count { sum += headWeight[o * feature.count + k] * feature[k] }
          return sum
        }
      }
      if cfg.outputMode == .sequence {
        for t in 0..<length {
          let logits = head(layerInput[t])
          for o in 0..<outputSize { outputs[(b * seqLen + t) * outputSize + o] = logits[o] }
        }
      } else {
        var feature = Array(layerInput[length - 1][0..<hidden])
        if directions == 2 { feature += layerInput[0][hidden..<(2 * hidden)] }
        let logits = head(feature)
        for o in 0..<outputSize { outputs[b * outputSize + o] = logits[o] }
      }
    }

    // The loss, over valid positions only.
    var loss: Double? = nil
    var accuracy: Double? = nil
    var smallestTopGap: Double? = nil
    var positions: [(row: Int, target: Int)] = []  // (output row, target row)
    for b in 0..<batchSize {
      if cfg.outputMode == .sequence {
        for t in 0..<lengths[b] { positions.append((b * seqLen + t, b * seqLen + t)) }
      } else {
        positions.append((b, b))
      }
    }
    switch cfg.loss {
    case .crossEntropy:
      if let targets = batch.targetClasses {
        let rowsNeeded = cfg.outputMode == .sequence ? batchSize * seqLen : batchSize
        guard targets.count == rowsNeeded else { throw ReferenceError("targetClasses size") }
        var total = 0.0
        var correct = 0
        var gap = Double.infinity
        for (row, targetRow) in positions {
          let logits = Array(outputs[(row * outputSize)..<((row + 1) * outputSize)])
          let target = Int(targets[targetRow])
          guard target >= 0 && target < outputSize else { throw ReferenceError("class \(target)") }
          let largest = logits.max()!
          var sumExp = 0.0
          for value in logits { sumExp += exp(value - largest) }
          total += largest + log(sumExp) - logits[target]
          let best = logits.firstIndex(of: largest)!
          if best == target { correct += 1 }
          var second = -Double.infinity
          for (k, value) in logits.enumerated() where k != best { second = max(second, value) }
          gap = min(gap, largest - second)
        }
        loss = total / Double(positions.count)
        accuracy = Double(correct) / Double(positions.count)
        smallestTopGap = gap
      }
    case .meanSquaredError:
      if let targets = batch.targetValues {
        let rowsNeeded = cfg.outputMode == .sequence ? batchSize * seqLen : batchSize
        guard targets.count == rowsNeeded * outputSize else {
          throw ReferenceError("targetValues size")
        }
        var total = 0.0
        for (row, targetRow) in positions {
          for o in 0..<outputSize {
            let difference =
              outputs[row * outputSize + o] - Double(targets[targetRow * outputSize + o])
            total += difference * difference
          }
        }
        loss = total / Double(positions.count * outputSize)
      }
    }
    return ReferenceResult(
      outputs: outputs, finalH: finalH, finalC: cfg.cell == .lstm ? finalC : nil, loss: loss,
      count: positions.count, accuracy: accuracy, smallestTopGap: smallestTopGap,
      smallestReluPreactivation: smallestRelu, reluActiveCounts: reluActive,
      reluInactiveCount: reluInactive)
  }
}
