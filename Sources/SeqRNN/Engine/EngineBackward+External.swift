extension Engine {
  /// Backpropagation through time driven from outside the engine's head:
  /// the loss reaches the stack through `topOutputGradients`, the gradient
  /// of the top layer's outputs (time-major `[T][B][D*H]`, nil: zero), and
  /// through `finalStateGradients`, the gradients of the final states
  /// (`[L*D][B][H]` each, nil: zero). The head is not involved: its
  /// gradients stay untouched.
  ///
  /// Accumulates every recurrent and embedding gradient into `gradients`
  /// (laid out like the parameters) and writes the gradients of the initial
  /// states to `initialStateGradients` (`[L*D][B][H]` each, optional; the
  /// cell part only for LSTM). The seq2seq model composes two stacks with
  /// it: the decoder's initial-state gradients become the encoder's
  /// final-state gradients. No dropout or zoneout (no masks).
  package func backward(
    _ input: EngineInput, tape: Tape<T>, scratch: BackwardScratch<T>,
    topOutputGradients: UnsafePointer<T>?,
    finalStateGradients: (h: UnsafePointer<T>?, c: UnsafePointer<T>?),
    gradients: UnsafeMutablePointer<T>,
    initialStateGradients: (h: UnsafeMutablePointer<T>?, c: UnsafeMutablePointer<T>?)
  ) {
    let (b, t, h) = (input.batchSize, input.seqLen, config.hiddenSize)
    let d = config.directions
    let width = d * h
    var dOutputs = scratch.layerGradients.0
    var dInputs = scratch.layerGradients.1
    if let topOutputGradients {
      dOutputs.update(from: topOutputGradients, count: t * b * width)
    } else {
      dOutputs.update(repeating: 0, count: t * b * width)
    }
    let isLSTM = config.cell == .lstm
    for layer in stride(from: config.numLayers - 1, through: 0, by: -1) {
      let inWidth = config.layerInputSize(layer)
      let layerInput =
        layer == 0 ? UnsafePointer(tape.input!) : UnsafePointer(tape.layerOutputs[layer - 1])
      let needInput = layer > 0 || config.usesTokens
      for direction in 0..<d {
        let slot = (layer * d + direction) * b * h
        backwardDirection(
          layer: layer, direction: direction, input: input, tape: tape, scratch: scratch,
          outputGradient: dOutputs, layerInput: layerInput, inputWidth: inWidth,
          inputGradient: needInput ? dInputs : nil, accumulate: direction > 0,
          gradients: gradients, masks: nil,
          carryIn: (
            finalStateGradients.h.map { $0 + slot },
            isLSTM ? finalStateGradients.c.map { $0 + slot } : nil
          ),
          carryOut: (
            initialStateGradients.h.map { $0 + slot },
            isLSTM ? initialStateGradients.c.map { $0 + slot } : nil
          ))
      }
      swap(&dOutputs, &dInputs)
    }
    // dOutputs now holds dL/d(layer-0 input): scatter it into the embedding.
    guard let tokens = input.tokens, let embedding = layout.embedding else { return }
    let e = config.embeddingOrInputSize
    for s in 0..<t {
      for i in 0..<b where s < input.lengths[i] {
        let row = gradients + embedding + Int(tokens[i * t + s]) * e
        let g = dOutputs + (s * b + i) * e
        for k in 0..<e { row[k] += g[k] }
      }
    }
  }
}
