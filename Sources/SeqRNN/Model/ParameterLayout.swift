/// Where each named tensor lives in a model's single flat parameter vector.
///
/// One contiguous vector makes optimizers, clipping and gradient buffers
/// simple loops; the names and shapes are PyTorch's, in `state_dict` order.
package struct ParameterLayout: Sendable {
  /// Offsets of one layer direction's four tensors, and its input width.
  package struct Recurrent: Sendable {
    package var weightIH: Int
    package var weightHH: Int
    package var biasIH: Int
    package var biasHH: Int
    package var inputSize: Int
  }

  /// Every tensor, in state_dict order.
  package let tensors: [TensorInfo]
  /// Total scalars.
  package let totalCount: Int
  /// Position of each name in `tensors`.
  package let indexByName: [String: Int]
  /// Offset of `embedding.weight`, for token models.
  package let embedding: Int?
  /// `[layer][direction]` offsets.
  package let recurrent: [[Recurrent]]
  /// Offset of `head.weight` ([output][directions*hidden]).
  package let headWeight: Int
  /// Offset of `head.bias`.
  package let headBias: Int

  /// Lays out the tensors of a (validated) configuration.
  package init(_ config: ModelConfiguration) {
    var tensors: [TensorInfo] = []
    var offset = 0
    func add(_ name: String, _ shape: [Int]) -> Int {
      let start = offset
      tensors.append(TensorInfo(name: name, shape: shape, offset: start))
      offset += shape.reduce(1, *)
      return start
    }
    let gh = config.cell.gateCount * config.hiddenSize
    let h = config.hiddenSize
    embedding =
      config.usesTokens
      ? add("embedding.weight", [config.vocabSize, config.embeddingOrInputSize]) : nil
    var recurrent: [[Recurrent]] = []
    for layer in 0..<config.numLayers {
      var directions: [Recurrent] = []
      let input = config.layerInputSize(layer)
      for direction in 0..<config.directions {
        let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        let wih = add("rnn.weight_ih" + suffix, [gh, input])
        let whh = add("rnn.weight_hh" + suffix, [gh, h])
        let bih = add("rnn.bias_ih" + suffix, [gh])
        let bhh = add("rnn.bias_hh" + suffix, [gh])
        directions.append(
          Recurrent(weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh, inputSize: input))
      }
      recurrent.append(directions)
    }
    self.recurrent = recurrent
    headWeight = add("head.weight", [config.outputSize, config.directions * h])
    headBias = add("head.bias", [config.outputSize])
    self.tensors = tensors
    totalCount = offset
    var index: [String: Int] = [:]
    for (i, t) in tensors.enumerated() { index[t.name] = i }
    indexByName = index
  }

  /// The tensor called `name`, or `.unknownName` listing the valid names.
  package func info(named name: String) throws(SeqRNNError) -> TensorInfo {
    guard let i = indexByName[name] else {
      let names = tensors.map(\.name).joined(separator: ", ")
      throw .unknownName("no tensor named '\(name)'; this model has: \(names)")
    }
    return tensors[i]
  }
}
