/// Seq2seq training checkpoints: one safetensors file with everything a
/// `Seq2Seq` needs to continue training bit-identically, the counterpart of
/// the trainer's (`Training/Checkpoint.swift`, whose pieces it shares).
///
/// Tensors: the named weights, and `optimizer.first.<name>` /
/// `optimizer.second.<name>` when the optimizer keeps buffers.
///
/// `__metadata__`:
///
///     "format": "seqrnn-seq2seq-checkpoint", "format_version": "1",
///     "seqrnn_version", "config": as in seq2seq model files,
///     "training": every TrainingOptions field,
///     "sampling": {"kind", "start", "end", "decay", "sample_from_model"},
///     "trainer": {"step_count", "data_position", "tensor_steps": {name: n},
///                 "rng": the scheduled-sampling stream,
///                 "mask_rng": {"encoder", "decoder"} (dropout streams),
///                 "schedule": {...}, "last_evaluation": {...} or null}
enum Seq2SeqCheckpointFile {
  /// The `format` metadata value.
  static let format = "seqrnn-seq2seq-checkpoint"
  /// The version written; bump when the meaning of a file changes.
  static let formatVersion = 1

  static func samplingJSON(_ s: ScheduledSampling) -> JSONValue {
    .object([
      ("kind", .string(s.kind.name)),
      ("start", CheckpointFile.text(s.start)),
      ("end", CheckpointFile.text(s.end)),
      ("decay", CheckpointFile.text(s.decay)),
      ("sample_from_model", .bool(s.sampleFromModel)),
    ])
  }

  static func sampling(from json: JSONValue) throws(SeqRNNError) -> ScheduledSampling {
    guard let name = json["kind"]?.stringValue,
      let kind = SamplingScheduleKind.allCases.first(where: { $0.name == name })
    else {
      throw .badFormat("checkpoint field 'sampling.kind' is missing or not a known schedule")
    }
    guard let fromModel = json["sample_from_model"]?.boolValue else {
      throw .badFormat("checkpoint field 'sampling.sample_from_model' is missing or not a boolean")
    }
    return ScheduledSampling(
      kind: kind, start: try CheckpointFile.double(json["start"], "sampling.start"),
      end: try CheckpointFile.double(json["end"], "sampling.end"),
      decay: try CheckpointFile.double(json["decay"], "sampling.decay"),
      sampleFromModel: fromModel)
  }
}

extension Seq2Seq {
  /// Saves everything needed to resume training bit-identically (weights,
  /// optimizer state, step count, learning-rate schedule, the scheduled
  /// sampling and dropout streams, the options and sampling settings) plus
  /// `dataPosition`, a number of the caller's choosing (e.g. the next
  /// batch), as one safetensors file. The write is atomic: a crash during
  /// the save leaves the previous file intact.
  public func saveCheckpoint(to path: String, dataPosition: Int64 = 0) throws(SeqRNNError) {
    guard !path.isEmpty else { throw .invalidArgument("path is empty") }
    let state: JSONValue = .object([
      ("step_count", .number(Double(stepCount))),
      ("data_position", .string(String(dataPosition))),
      ("tensor_steps", CheckpointFile.tensorStepsJSON(layout.tensors, optimizer)),
      ("rng", CheckpointFile.rngJSON(random)),
      (
        "mask_rng",
        .object([
          ("encoder", CheckpointFile.rngJSON(masks.encoder.random)),
          ("decoder", CheckpointFile.rngJSON(masks.decoder.random)),
        ])
      ),
      ("schedule", CheckpointFile.scheduleJSON(schedule)),
      ("last_evaluation", CheckpointFile.evaluationJSON(lastEvaluation)),
    ])
    try CheckpointFile.write(
      CheckpointFile.tensors(layout.tensors, weights: parameters, optimizer: optimizer),
      metadata: [
        ("format", Seq2SeqCheckpointFile.format),
        ("format_version", String(Seq2SeqCheckpointFile.formatVersion)),
        ("seqrnn_version", seqrnnVersion),
        ("config", serializeJSON(Seq2SeqFile.configurationJSON(configuration))),
        ("training", serializeJSON(CheckpointFile.optionsJSON(options))),
        ("sampling", serializeJSON(Seq2SeqCheckpointFile.samplingJSON(sampling))),
        ("trainer", serializeJSON(state)),
      ], to: path)
  }

  /// Loads a checkpoint written by `saveCheckpoint`: a model that continues
  /// training exactly where the saved one stopped, and the saved data
  /// position. Damaged files, files of another kind and files of a newer
  /// format version are refused with `.badFormat`, `.unsupportedVersion` or
  /// `.io`.
  public static func loadCheckpoint(from path: String) throws(SeqRNNError) -> (
    model: Seq2Seq, dataPosition: Int64
  ) {
    let decoded = try CheckpointFile.read(
      path, format: Seq2SeqCheckpointFile.format,
      formatVersion: Seq2SeqCheckpointFile.formatVersion, kind: "seqrnn seq2seq checkpoint",
      otherKinds: [
        Seq2SeqFile.format:
          "a seq2seq model file, not a checkpoint (load it with seqrnn_seq2seq_load)",
        CheckpointFile.format: "a trainer checkpoint, not a seq2seq one",
      ])
    do {
      return try restore(decoded)
    } catch {
      if case .outOfMemory = error { throw error }
      throw .badFormat("\(path): \(error.message)")
    }
  }

  /// Builds the model of a decoded checkpoint.
  private static func restore(_ decoded: CheckpointFile.Decoded) throws(SeqRNNError) -> (
    model: Seq2Seq, dataPosition: Int64
  ) {
    let model = try Seq2Seq(
      try Seq2SeqFile.configuration(from: try decoded.json("config")),
      options: try CheckpointFile.options(from: try decoded.json("training")),
      sampling: try Seq2SeqCheckpointFile.sampling(from: try decoded.json("sampling")))
    let infos = model.layout.tensors
    try CheckpointFile.restoreTensors(
      decoded, expected: CheckpointFile.expectedTensors(infos, optimizer: model.optimizer))
    for info in infos {
      try model.setTensor(named: info.name, decoded.byName[info.name]!.values)
    }
    let state = try decoded.json("trainer")
    model.stepCount = try CheckpointFile.count(state["step_count"], "step_count")
    let dataPosition = try CheckpointFile.dataPosition(state["data_position"])
    try CheckpointFile.restoreTensorSteps(state["tensor_steps"], infos, into: model.optimizer)
    model.random.state = try CheckpointFile.rngState(state["rng"], "rng")
    model.masks.encoder.random.state = try CheckpointFile.rngState(
      state["mask_rng"]?["encoder"], "mask_rng.encoder")
    model.masks.decoder.random.state = try CheckpointFile.rngState(
      state["mask_rng"]?["decoder"], "mask_rng.decoder")
    try CheckpointFile.restoreSchedule(state["schedule"], into: &model.schedule)
    model.lastEvaluation = try CheckpointFile.evaluation(state["last_evaluation"])
    return (model, dataPosition)
  }
}
