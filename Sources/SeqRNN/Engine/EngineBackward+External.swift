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
  /// final-state gradients. `masks` must be the ones the forward pass used
  /// (nil for none).
  package func backward(
    _ input: EngineInput, tape: Tape<T>, scratch: BackwardScratch<T>,
    topOutputGradients: UnsafePointer<T>?,
    finalStateGradients: (h: UnsafePointer<T>?, c: UnsafePointer<T>?),
    gradients: UnsafeMutablePointer<T>,
    initialStateGradients: (h: UnsafeMutablePointer<T>?, c: UnsafeMutablePointer<T>?),
    masks: Regularizer? = nil
  ) {
    let count = input.seqLen * input.batchSize * config.directions * config.hiddenSize
    let dOutputs = scratch.layerGradients.0
    if let topOutputGradients {
      dOutputs.update(from: topOutputGradients, count: count)
    } else {
      dOutputs.update(repeating: 0, count: count)
    }
    let dInput = backwardLayers(
      input, tape: tape, scratch: scratch, outputGradients: dOutputs,
      spare: scratch.layerGradients.1, gradients: gradients, masks: masks,
      wantInputGradient: config.usesTokens, carryIn: finalStateGradients,
      carryOut: initialStateGradients)
    scatterEmbeddingGradients(input, from: dInput, into: gradients)
  }
}
