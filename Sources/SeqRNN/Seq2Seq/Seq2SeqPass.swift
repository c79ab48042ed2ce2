/// One teacher-forced pass of an encoder-decoder, forward and backward,
/// generic over the scalar type (float32 for training, float64 for the
/// finite-difference tests), reusing its buffers across batches.
///
/// Forward: the encoder stack runs over the sources; its final states
/// (`h`, and `c` for LSTM, per layer) are the decoder's initial states; the
/// decoder stack runs over `BOS y_1 ... y_n` as one full-sequence pass
/// (no input feeding, so attention needs no step-by-step recurrence); then
/// `Seq2SeqHead` turns the decoder's top outputs into logits, attending over
/// the encoder's top outputs. Backward runs the same chain in reverse: the
/// head gives dL/d(decoder outputs) and dL/d(encoder outputs), the decoder's
/// BPTT gives dL/d(initial states), which seed the encoder's BPTT.
///
/// A bidirectional encoder's directions are summed: the head attends over
/// `h_fwd + h_bwd` at each source step, and layer `l` of the decoder starts
/// from the sum of the encoder's two final states of layer `l` (the forward
/// direction's at the sequence's end, the backward one's at its start). The
/// gradients of the sums reach both directions unchanged.
///
/// Internally time-major: row `t * B + b` is step `t` of sequence `b`.
final class Seq2SeqPass<T: EngineScalar> {
  let config: Seq2SeqConfiguration
  let layout: Seq2SeqLayout
  let encoderTape = Tape<T>()
  let decoderTape = Tape<T>()
  private let encoderScratch = BackwardScratch<T>()
  private let decoderScratch = BackwardScratch<T>()
  /// The head's buffers and arithmetic.
  let head: Seq2SeqHead<T>
  private let tokens = Arena<Int32>()
  private let states = Arena<T>()

  /// The dropout masks of a training step (nil: none, as in evaluation and
  /// decoding); set by the trainer after `load`, used by every pass until
  /// cleared.
  var masks: Seq2SeqMasks?

  /// Sizes of the current batch: sequences, source steps, decoder steps
  /// (longest target + 1).
  private(set) var batchSize = 0
  private(set) var sourceSteps = 0
  private(set) var decoderSteps = 0
  /// Per sequence: source length and decoder length (target length + 1).
  private(set) var sourceLengths: [Int] = []
  private(set) var decoderLengths: [Int] = []
  /// `[B][S]` source ids, `[B][T']` decoder inputs and targets.
  private(set) var sourceTokens: UnsafeMutablePointer<Int32>!
  private(set) var decoderInputs: UnsafeMutablePointer<Int32>!
  private(set) var decoderTargets: UnsafeMutablePointer<Int32>!
  /// Decoder initial states `[L][B][H]` (the encoder's final states) and
  /// their gradients.
  private var initialH: UnsafeMutablePointer<T>!
  private var initialC: UnsafeMutablePointer<T>!
  private var initialHGradient: UnsafeMutablePointer<T>!
  private var initialCGradient: UnsafeMutablePointer<T>!
  /// What attention reads of the encoder, set by `encode`: its top outputs
  /// `[S][B][H]`, or `encoderSum`.
  private var encoderTop: UnsafePointer<T>!
  /// Bidirectional encoder only: the summed top outputs `[S][B][H]`, their
  /// gradient for both directions `[S][B][2H]`, and the final-state
  /// gradients for both directions `[L*2][B][H]`.
  private var encoderSum: UnsafeMutablePointer<T>!
  private var encoderTopGradients: UnsafeMutablePointer<T>!
  private var finalHGradient: UnsafeMutablePointer<T>!
  private var finalCGradient: UnsafeMutablePointer<T>!

  init(config: Seq2SeqConfiguration, layout: Seq2SeqLayout) {
    self.config = config
    self.layout = layout
    head = Seq2SeqHead(config: config, layout: layout)
  }

  /// Takes a validated batch with targets: decoder inputs `BOS y_1..y_n`,
  /// decoder targets `y_1..y_n EOS` (padding: 0).
  func load(_ batch: Seq2SeqBatch) throws(SeqRNNError) {
    let b = batch.batchSize
    let s = batch.sourceSteps
    let targetLengths = batch.targetLengths!
    let steps = (targetLengths.max() ?? 0) + 1
    try tokens.reset(capacity: 3 * Arena<Int32>.footprint(b * max(s, steps)))
    sourceTokens = tokens.take(b * s)
    decoderInputs = tokens.take(b * steps)
    decoderTargets = tokens.take(b * steps)
    batch.source.withUnsafeBufferPointer {
      sourceTokens.update(from: $0.baseAddress!, count: b * s)
    }
    for i in 0..<b {
      let n = targetLengths[i]
      let inputs = decoderInputs + i * steps
      let targets = decoderTargets + i * steps
      inputs.update(repeating: 0, count: steps)
      targets.update(repeating: 0, count: steps)
      inputs[0] = Int32(config.bosID)
      for t in 0..<n {
        let id = batch.target[i * batch.targetSteps + t]
        targets[t] = id
        inputs[t + 1] = id
      }
      targets[n] = Int32(config.eosID)
    }
    batchSize = b
    sourceSteps = s
    decoderSteps = steps
    sourceLengths = batch.sourceLengths!
    decoderLengths = targetLengths.map { $0 + 1 }
    let count = config.numLayers * b * config.hiddenSize
    let top = s * b * config.hiddenSize
    let fp = Arena<T>.footprint
    let both = config.bidirectionalEncoder
    try states.reset(
      capacity: 4 * fp(count) + (both ? fp(top) + fp(2 * top) + 2 * fp(2 * count) : 0))
    initialH = states.take(count)
    initialC = states.take(count)
    initialHGradient = states.take(count)
    initialCGradient = states.take(count)
    if both {
      encoderSum = states.take(top)
      encoderTopGradients = states.take(2 * top)
      finalHGradient = states.take(2 * count)
      finalCGradient = states.take(2 * count)
    }
  }

  /// Replaces the decoder input at step `t` of sequence `b` (scheduled
  /// sampling); step 0 stays BOS.
  func setDecoderInput(sequence b: Int, step t: Int, _ id: Int32) {
    precondition(t >= 1 && t < decoderLengths[b])
    decoderInputs[b * decoderSteps + t] = id
  }

  private var encoderInput: EngineInput {
    var input = EngineInput(batchSize: batchSize, seqLen: sourceSteps)
    input.lengths = sourceLengths
    input.tokens = UnsafePointer(sourceTokens)
    return input
  }

  private var decoderInput: EngineInput {
    var input = EngineInput(batchSize: batchSize, seqLen: decoderSteps)
    input.lengths = decoderLengths
    input.tokens = UnsafePointer(decoderInputs)
    Self.setInitialStates(
      &input, h: initialH, c: config.cell == .lstm ? initialC : nil)
    return input
  }

  /// Points `input`'s initial states at `h`/`c` in the field of `T`'s precision.
  static func setInitialStates(
    _ input: inout EngineInput, h: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>?
  ) {
    if T.self == Double.self {
      input.doubleInitialH = UnsafeRawPointer(h).assumingMemoryBound(to: Double.self)
      input.doubleInitialC = c.map { UnsafeRawPointer($0).assumingMemoryBound(to: Double.self) }
    } else {
      input.initialH = UnsafeRawPointer(h).assumingMemoryBound(to: Float.self)
      input.initialC = c.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) }
    }
  }

  /// The encoder and decoder engines over `parameters`.
  func engines(_ parameters: UnsafePointer<T>) -> (encoder: Engine<T>, decoder: Engine<T>) {
    (
      Engine(
        config: config.encoder, layout: layout.encoder,
        parameters: parameters + layout.encoderBase),
      Engine(
        config: config.decoder, layout: layout.decoder,
        parameters: parameters + layout.decoderBase)
    )
  }

  /// Copies a stack's final states `[L][B][H]` (slot T of each layer's
  /// forward direction, plus slot 0 of its backward direction when the
  /// stack has one) into `h` and, for LSTM, `c`.
  static func copyFinalStates(
    _ tape: Tape<T>, config: Seq2SeqConfiguration, batch b: Int, steps: Int,
    h: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>?
  ) {
    let count = b * config.hiddenSize
    for layer in 0..<config.numLayers {
      var pairs = [(tape.states[layer], h + layer * count)]
      if let c, config.cell == .lstm { pairs.append((tape.cells[layer], c + layer * count)) }
      for (directions, out) in pairs {
        let forward = directions[0] + steps * count
        if directions.count == 2 {
          for i in 0..<count { out[i] = forward[i] + directions[1][i] }
        } else {
          out.update(from: forward, count: count)
        }
      }
    }
  }

  /// The encoder's top outputs as attention reads them, `[S][B][H]`: the
  /// top layer's outputs, or with a bidirectional encoder the sum of its
  /// two halves, written to `sum`.
  static func encoderOutputs(
    _ tape: Tape<T>, config: Seq2SeqConfiguration, batch b: Int, steps: Int,
    sum: UnsafeMutablePointer<T>?
  ) -> UnsafePointer<T> {
    let top = tape.layerOutputs[config.numLayers - 1]
    guard config.bidirectionalEncoder, let sum else { return UnsafePointer(top) }
    let h = config.hiddenSize
    for row in 0..<(steps * b) {
      let both = top + row * 2 * h
      for j in 0..<h { sum[row * h + j] = both[j] + both[h + j] }
    }
    return UnsafePointer(sum)
  }

  /// Forward over the loaded batch up to the logits (`head.logits`).
  func forward(_ parameters: UnsafePointer<T>) throws(SeqRNNError) {
    try encode(parameters)
    try decode(parameters)
  }

  /// The encoder over the loaded sources; its final states become the
  /// decoder's initial states.
  func encode(_ parameters: UnsafePointer<T>) throws(SeqRNNError) {
    try engines(parameters).encoder.forward(encoderInput, tape: encoderTape, masks: masks?.encoder)
    Self.copyFinalStates(
      encoderTape, config: config, batch: batchSize, steps: sourceSteps, h: initialH,
      c: initialC)
    encoderTop = Self.encoderOutputs(
      encoderTape, config: config, batch: batchSize, steps: sourceSteps, sum: encoderSum)
  }

  /// The decoder and head over the loaded decoder inputs, after `encode`
  /// (scheduled sampling changes the decoder inputs, not the encoder's).
  func decode(_ parameters: UnsafePointer<T>) throws(SeqRNNError) {
    try engines(parameters).decoder.forward(decoderInput, tape: decoderTape, masks: masks?.decoder)
    try head.forward(
      parameters, decoderOutputs: decoderTape.layerOutputs[config.numLayers - 1],
      encoderOutputs: encoderTop, sourceLengths: sourceLengths, batch: batchSize,
      sourceSteps: sourceSteps, steps: decoderSteps)
  }

  /// Cross-entropy of the logits against the decoder targets, summed over
  /// the valid positions (`count` of them, `correct` with the right
  /// arg-max). With `withGradients`, writes dL/dlogits of the mean loss
  /// (sum / count) to `head.logitGradients` (zero on padding).
  func loss(withGradients: Bool) -> (sum: Double, count: Int, correct: Int) {
    let (b, steps, v) = (batchSize, decoderSteps, config.targetVocabSize)
    let count = decoderLengths.reduce(0, +)
    let scale = T(1 / Double(count))
    let gradients = withGradients ? head.logitGradients! : nil
    gradients?.update(repeating: 0, count: steps * b * v)
    var total = 0.0
    var correct = 0
    for i in 0..<b {
      for t in 0..<decoderLengths[i] {
        let row = t * b + i
        let target = decoderTargets[i * steps + t]
        let result = crossEntropy(
          head.logits + row * v, count: v, target: target, scale: scale,
          gradient: gradients.map { $0 + row * v })
        total += result.loss
        if result.argmax == Int(target) { correct += 1 }
      }
    }
    return (total, count, correct)
  }

  /// Backpropagation of the gradients in `head.logitGradients` into every
  /// named tensor's gradient (accumulated into `gradients`).
  func backward(_ parameters: UnsafePointer<T>, gradients: UnsafeMutablePointer<T>)
    throws(SeqRNNError)
  {
    let (encoder, decoder) = engines(parameters)
    let last = config.numLayers - 1
    head.backward(
      parameters, gradients: gradients, decoderOutputs: decoderTape.layerOutputs[last],
      encoderOutputs: encoderTop, sourceLengths: sourceLengths, batch: batchSize,
      sourceSteps: sourceSteps, steps: decoderSteps)
    try decoderScratch.prepare(
      config.decoder, batchSize: batchSize, seqLen: decoderSteps, training: masks != nil)
    let isLSTM = config.cell == .lstm
    decoder.backward(
      decoderInput, tape: decoderTape, scratch: decoderScratch,
      topOutputGradients: UnsafePointer(head.decoderOutputGradients),
      finalStateGradients: (nil, nil), gradients: gradients + layout.decoderBase,
      initialStateGradients: (initialHGradient, isLSTM ? initialCGradient : nil),
      masks: masks?.decoder)
    try encoderScratch.prepare(
      config.encoder, batchSize: batchSize, seqLen: sourceSteps, training: masks != nil)
    var topGradients =
      config.attention == .none ? nil : UnsafePointer(head.encoderOutputGradients)
    var finalH = UnsafePointer(initialHGradient!)
    var finalC = UnsafePointer(initialCGradient!)
    if config.bidirectionalEncoder {
      // A sum passes its gradient to both terms: both halves of each top
      // output row, both directions' final states of each layer.
      let h = config.hiddenSize
      if let sumGradients = topGradients {
        for row in 0..<(sourceSteps * batchSize) {
          let both = encoderTopGradients + row * 2 * h
          both.update(from: sumGradients + row * h, count: h)
          (both + h).update(from: sumGradients + row * h, count: h)
        }
        topGradients = UnsafePointer(encoderTopGradients)
      }
      let count = batchSize * h
      for layer in 0..<config.numLayers {
        for direction in 0..<2 {
          let slot = (layer * 2 + direction) * count
          (finalHGradient + slot).update(from: initialHGradient + layer * count, count: count)
          if isLSTM {
            (finalCGradient + slot).update(from: initialCGradient + layer * count, count: count)
          }
        }
      }
      finalH = UnsafePointer(finalHGradient)
      finalC = UnsafePointer(finalCGradient)
    }
    encoder.backward(
      encoderInput, tape: encoderTape, scratch: encoderScratch,
      topOutputGradients: topGradients, finalStateGradients: (finalH, isLSTM ? finalC : nil),
      gradients: gradients + layout.encoderBase, initialStateGradients: (nil, nil),
      masks: masks?.encoder)
  }

  /// The arg-max of each valid position's logits, `[B][T']` (0 on padding).
  func predictions() -> [Int32] {
    let (b, steps, v) = (batchSize, decoderSteps, config.targetVocabSize)
    var out = [Int32](repeating: 0, count: b * steps)
    for i in 0..<b {
      for t in 0..<decoderLengths[i] {
        out[i * steps + t] = Int32(argmax(head.logits + (t * b + i) * v, count: v))
      }
    }
    return out
  }
}
