import CSeqRNNKernels
import CSeqRNNSupport

/// The float32 time loop of a layer direction in C (`recurrence.c`): `W_hh`
/// packed once per call, the hidden units split across the thread team, one
/// barrier per step. The engine uses it for every float32 pass without
/// zoneout (whose mixing pass stays in `Zoneout`); float64 keeps the Swift
/// loops, which the tests use as the reference.
enum Recurrence {
  /// How the C loop splits each step between threads: 0 lets it choose by
  /// size (`SRNN_SPLIT_AUTO`); the tests force 1 (units) and 2 (sequences)
  /// to check that every split gives the same bits.
  nonisolated(unsafe) package static var split: Int32 = 0

  /// Threads the kernel may use now (seqrnn's thread budget, at most 8).
  static func teamSize() -> Int { max(1, min(Int(srnn_thread_budget()), 8)) }

  /// Floats of the packed forward weights (0 when a pass of this batch and
  /// length uses row dot products) and per-thread scratch a tape needs
  /// (none for float64).
  static func sizes<T>(
    _ config: ModelConfiguration, batch: Int, steps: Int, team: Int, scalar: T.Type
  ) -> (packed: Int, scratch: Int) {
    guard T.self == Float.self else { return (0, 0) }
    let h = Int64(config.hiddenSize)
    return (
      Int(
        srnn_recurrence_forward_packed_size(
          config.cell.rawValue, h, Int64(batch), Int64(steps))),
      Int(srnn_recurrence_scratch_size(Int64(batch), h, Int32(team)))
    )
  }

  /// Floats of the packed backward weights a backward scratch needs (none
  /// for float64).
  static func backwardSize<T>(_ config: ModelConfiguration, scalar: T.Type) -> Int {
    guard T.self == Float.self else { return 0 }
    return Int(
      srnn_recurrence_backward_packed_size(config.cell.rawValue, Int64(config.hiddenSize)))
  }
}

extension Engine {
  /// Whether the C time loop runs this pass (float32 without zoneout).
  func usesRecurrenceKernel(zoneout: Zoneout<T>) -> Bool {
    T.self == Float.self && !zoneout.isActive
  }

  /// The job description shared by the forward and backward loops.
  private func recurrenceJob(
    layer: Int, direction: Int, input: EngineInput, tape: Tape<T>,
    recurrentMask: UnsafePointer<Float>?
  ) -> srnn_recurrence {
    let h = config.hiddenSize
    let offsets = layout.recurrent[layer][direction]
    var job = srnn_recurrence()
    job.cell = config.cell.rawValue
    job.reverse = direction == 1 ? 1 : 0
    job.threads = Int32(tape.teamSize)
    job.bf16 = precision == .bfloat16 ? 1 : 0
    job.split = Recurrence.split
    job.batch = Int64(input.batchSize)
    job.hidden = Int64(h)
    job.steps = Int64(input.seqLen)
    job.weight_hh = f32(parameters + offsets.weightHH)
    job.packed = tape.recurrencePacked.map { f32($0) }
    job.scratch = tape.recurrenceScratch.map { f32($0) }
    job.gates = f32(tape.gates[layer][direction])
    job.states = f32(tape.states[layer][direction])
    job.cells = config.cell == .lstm ? f32(tape.cells[layer][direction]) : nil
    job.gru_hidden = config.cell == .gru ? f32(tape.gruHidden[layer][direction]) : nil
    job.output_stride = Int64(config.directions * h)
    job.recurrent_mask = recurrentMask
    return job
  }

  /// Forward over all steps of one layer direction; the tape's gates must
  /// hold the input projections and the first state slot the initial state.
  func recurrenceForward(
    layer: Int, direction: Int, input: EngineInput, tape: Tape<T>,
    recurrentMask: UnsafePointer<Float>?
  ) {
    var job = recurrenceJob(
      layer: layer, direction: direction, input: input, tape: tape,
      recurrentMask: recurrentMask)
    let offsets = layout.recurrent[layer][direction]
    job.product = f32(tape.recurrentProduct)
    job.gru_bias =
      config.cell == .gru ? f32(parameters + offsets.biasHH + 2 * config.hiddenSize) : nil
    job.output = f32(tape.layerOutputs[layer] + direction * config.hiddenSize)
    input.lengths.withUnsafeBufferPointer { lengths in
      job.lengths = UnsafeRawPointer(lengths.baseAddress!).assumingMemoryBound(to: Int64.self)
      srnn_recurrence_forward(&job)
    }
  }

  /// Backward over all steps of one layer direction: fills the gate
  /// gradients (and GRU's `W_hn h + b_hn` gradients) of every step.
  func recurrenceBackward(
    layer: Int, direction: Int, input: EngineInput, tape: Tape<T>, scratch: BackwardScratch<T>,
    outputGradient: UnsafeMutablePointer<T>, recurrentMask: UnsafePointer<Float>?
  ) {
    var job = recurrenceJob(
      layer: layer, direction: direction, input: input, tape: tape,
      recurrentMask: recurrentMask)
    let isGRU = config.cell == .gru
    job.product = f32(scratch.recurrentResult)
    job.packed_backward = f32(scratch.recurrencePacked!)
    job.output_gradient = f32(UnsafePointer(outputGradient + direction * config.hiddenSize))
    job.gate_gradients = f32(scratch.gateGradients)
    job.gru_hidden_gradients = isGRU ? f32(scratch.gruHiddenGradients) : nil
    job.hidden_carry = f32(scratch.hiddenCarry)
    job.cell_carry = f32(scratch.cellCarry)
    job.direct = isGRU ? f32(scratch.directPath) : nil
    input.lengths.withUnsafeBufferPointer { lengths in
      job.lengths = UnsafeRawPointer(lengths.baseAddress!).assumingMemoryBound(to: Int64.self)
      srnn_recurrence_backward(&job)
    }
  }
}
