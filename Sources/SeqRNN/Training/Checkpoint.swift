/// Training checkpoints: one safetensors file with everything a trainer needs
/// to continue bit-identically.
///
/// Tensors (float32):
///
/// - the model's weights under their PyTorch names, as in a model file;
/// - `optimizer.first.<name>`: SGD/RMSprop momentum buffers or Adam's first
///   moment, and `optimizer.second.<name>`: Adam's second moment or
///   RMSprop's square average, for every tensor, when the optimizer keeps them;
/// - `state.h` (and `state.c` for LSTM), `[layers*directions, batch, hidden]`:
///   the final states of the latest step (the start of the next stateful step),
///   when a step was taken.
///
/// `__metadata__` (strings; JSON where structured):
///
///     "format": "seqrnn-checkpoint", "format_version": "1", "seqrnn_version",
///     "config": the model configuration (as in model files),
///     "training": every TrainingOptions field,
///     "trainer": {"step_count", "data_position", "tensor_steps": {name: n},
///                 "frozen": [names], "rng": ["<u64>" x 4],
///                 "schedule": {"base_learning_rate", "plateau_rate", "best",
///                              "bad_reports", "reports"},
///                 "last_evaluation": {"loss", "accuracy", "count"} or null}
///
/// Doubles that must survive exactly, or may be infinite or NaN, are written
/// as decimal strings (Swift's shortest round-tripping form); 64-bit integers
/// (seeds, RNG words, positions) as decimal strings too.
enum CheckpointFile {
  /// The `format` metadata value.
  static let format = "seqrnn-checkpoint"
  /// The version written; bump when the meaning of a file changes.
  static let formatVersion = 1

  /// Every training option as a JSON object.
  static func optionsJSON(_ o: TrainingOptions) -> JSONValue {
    func number(_ value: Float) -> JSONValue { .number(Double(value)) }
    return .object([
      ("optimizer", .number(Double(o.optimizer.rawValue))),
      ("learning_rate", number(o.learningRate)),
      ("momentum", number(o.momentum)),
      ("beta1", number(o.beta1)),
      ("beta2", number(o.beta2)),
      ("epsilon", number(o.epsilon)),
      ("clip_norm", number(o.clipNorm)),
      ("nesterov", .bool(o.nesterov)),
      ("rmsprop_alpha", number(o.rmspropAlpha)),
      ("l2_penalty", number(o.l2Penalty)),
      ("weight_decay", number(o.weightDecay)),
      ("clip_value", number(o.clipValue)),
      ("schedule", .number(Double(o.schedule.rawValue))),
      ("step_size", .number(Double(o.stepSize))),
      ("gamma", number(o.gamma)),
      ("warmup_steps", .number(Double(o.warmupSteps))),
      ("total_steps", .number(Double(o.totalSteps))),
      ("min_learning_rate", number(o.minLearningRate)),
      ("patience", .number(Double(o.patience))),
      ("plateau_maximize", .bool(o.plateauMaximize)),
      ("stateful", .bool(o.stateful)),
      ("seed", .string(String(o.seed))),
    ])
  }

  /// Reads options written by `optionsJSON` (not yet validated).
  static func options(from json: JSONValue) throws(SeqRNNError) -> TrainingOptions {
    func field(_ key: String) throws(SeqRNNError) -> JSONValue {
      guard let value = json[key] else {
        throw .badFormat("training option '\(key)' is missing")
      }
      return value
    }
    func float(_ key: String) throws(SeqRNNError) -> Float {
      guard let value = try field(key).doubleValue else {
        throw .badFormat("training option '\(key)' is not a number")
      }
      return Float(value)
    }
    func integer(_ key: String) throws(SeqRNNError) -> Int {
      guard let value = try field(key).intValue else {
        throw .badFormat("training option '\(key)' is not an integer")
      }
      return value
    }
    func flag(_ key: String) throws(SeqRNNError) -> Bool {
      guard let value = try field(key).boolValue else {
        throw .badFormat("training option '\(key)' is not a boolean")
      }
      return value
    }
    guard let optimizer = OptimizerKind(rawValue: Int32(clamping: try integer("optimizer"))) else {
      throw .badFormat("training option 'optimizer' is not a known optimizer")
    }
    guard let schedule = ScheduleKind(rawValue: Int32(clamping: try integer("schedule"))) else {
      throw .badFormat("training option 'schedule' is not a known schedule")
    }
    guard let seedText = try field("seed").stringValue, let seed = UInt64(seedText) else {
      throw .badFormat("training option 'seed' is not an unsigned integer string")
    }
    var o = TrainingOptions(
      optimizer: optimizer, learningRate: try float("learning_rate"),
      momentum: try float("momentum"), beta1: try float("beta1"), beta2: try float("beta2"),
      epsilon: try float("epsilon"), clipNorm: try float("clip_norm"))
    o.nesterov = try flag("nesterov")
    o.rmspropAlpha = try float("rmsprop_alpha")
    o.l2Penalty = try float("l2_penalty")
    o.weightDecay = try float("weight_decay")
    o.clipValue = try float("clip_value")
    o.schedule = schedule
    o.stepSize = try integer("step_size")
    o.gamma = try float("gamma")
    o.warmupSteps = try integer("warmup_steps")
    o.totalSteps = try integer("total_steps")
    o.minLearningRate = try float("min_learning_rate")
    o.patience = try integer("patience")
    o.plateauMaximize = try flag("plateau_maximize")
    o.stateful = try flag("stateful")
    o.seed = seed
    return o
  }

  /// A double as an exactly round-tripping string.
  static func text(_ value: Double) -> JSONValue { .string(String(value)) }

  /// Reads a double written by `text(_:)`.
  static func double(_ value: JSONValue?, _ what: String) throws(SeqRNNError) -> Double {
    guard let string = value?.stringValue, let number = Double(string) else {
      throw .badFormat("checkpoint field '\(what)' is missing or not a number string")
    }
    return number
  }

  /// Reads a non-negative integer field.
  static func count(_ value: JSONValue?, _ what: String) throws(SeqRNNError) -> Int {
    guard let number = value?.intValue, number >= 0 else {
      throw .badFormat("checkpoint field '\(what)' is missing or not a non-negative integer")
    }
    return number
  }

  // ---- pieces every checkpoint kind shares (trainer and seq2seq) --------

  /// Writes `tensors` and `metadata` atomically to `path`.
  static func write(
    _ tensors: [SafeTensor], metadata: [(String, String)], to path: String
  ) throws(SeqRNNError) {
    do {
      try writeFileAtomically(encodeSafeTensors(tensors, metadata: metadata), to: path)
    } catch {
      switch error {
      case .io(let message): throw .io(message)
      case .badFormat(let message): throw .internalError(message)
      }
    }
  }

  /// A decoded checkpoint file: its tensors by name and its metadata.
  struct Decoded {
    let path: String
    let tensors: [SafeTensor]
    let byName: [String: SafeTensor]
    let metadata: [String: String]

    /// The JSON metadata entry `key`.
    func json(_ key: String) throws(SeqRNNError) -> JSONValue {
      guard let text = metadata[key] else {
        throw .badFormat("\(path): metadata '\(key)' is missing")
      }
      do {
        return try parseJSON(Array(text.utf8))
      } catch {
        throw .badFormat("\(path): metadata '\(key)' is not valid JSON: \(error.message)")
      }
    }
  }

  /// Reads `path` as a checkpoint whose metadata `format` is `format`
  /// (versions 1 up to `formatVersion`); `kind` names such files in errors.
  /// `otherKinds` maps the formats of files often given by mistake to what
  /// to say about them.
  static func read(
    _ path: String, format: String, formatVersion: Int, kind: String,
    otherKinds: [String: String]
  ) throws(SeqRNNError) -> Decoded {
    guard !path.isEmpty else { throw .invalidArgument("path is empty") }
    let decoded: (tensors: [SafeTensor], metadata: [(String, String)])
    do {
      decoded = try decodeSafeTensors(try readWholeFile(path))
    } catch {
      switch error {
      case .io(let message): throw .io(message)
      case .badFormat(let message): throw .badFormat("\(path): \(message)")
      }
    }
    let metadata = Dictionary(decoded.metadata, uniquingKeysWith: { first, _ in first })
    try ModelFileContainer.checkFormat(
      metadata, path: path, format: format, formatVersion: formatVersion,
      otherwise: metadata["format"].flatMap { otherKinds[$0] }
        ?? "a safetensors file but not a \(kind) (metadata 'format' is not \"\(format)\")")
    var byName: [String: SafeTensor] = [:]
    for tensor in decoded.tensors { byName[tensor.name] = tensor }
    return Decoded(path: path, tensors: decoded.tensors, byName: byName, metadata: metadata)
  }

  /// The weights and the optimizer's buffers of `tensors` as checkpoint
  /// tensors (`optimizer.first.<name>`, `optimizer.second.<name>`).
  static func tensors(
    _ infos: [TensorInfo], weights: FlatBuffer<Float>, optimizer: OptimizerState
  ) -> [SafeTensor] {
    func slice(_ buffer: FlatBuffer<Float>, _ info: TensorInfo) -> [Float] {
      Array(UnsafeBufferPointer(start: buffer.pointer + info.offset, count: info.count))
    }
    var out = infos.map { SafeTensor(name: $0.name, shape: $0.shape, values: slice(weights, $0)) }
    for (prefix, buffer) in [
      ("optimizer.first.", optimizer.first), ("optimizer.second.", optimizer.second),
    ]
    where buffer.count > 0 {
      out += infos.map {
        SafeTensor(name: prefix + $0.name, shape: $0.shape, values: slice(buffer, $0))
      }
    }
    return out
  }

  /// The tensors a checkpoint of `infos` under `optimizer` holds: each name
  /// with its shape, and where its values go (nil: the caller sets them).
  static func expectedTensors(_ infos: [TensorInfo], optimizer: OptimizerState) -> [(
    name: String, shape: [Int], destination: UnsafeMutablePointer<Float>?
  )] {
    var expected: [(name: String, shape: [Int], destination: UnsafeMutablePointer<Float>?)] =
      infos.map { ($0.name, $0.shape, nil) }
    for (prefix, buffer) in [
      ("optimizer.first.", optimizer.first), ("optimizer.second.", optimizer.second),
    ] where buffer.count > 0 {
      for info in infos {
        expected.append((prefix + info.name, info.shape, buffer.pointer + info.offset))
      }
    }
    return expected
  }

  /// Checks that `decoded` holds exactly the `expected` tensors, with their
  /// shapes and finite values, and copies those with a destination.
  static func restoreTensors(
    _ decoded: Decoded,
    expected: [(name: String, shape: [Int], destination: UnsafeMutablePointer<Float>?)]
  ) throws(SeqRNNError) {
    let names = Set(expected.map(\.name))
    if let unexpected = decoded.tensors.first(where: { !names.contains($0.name) }) {
      throw .badFormat(
        "unexpected tensor '\(unexpected.name)' for this configuration and optimizer")
    }
    for item in expected {
      guard let tensor = decoded.byName[item.name] else {
        throw .badFormat("tensor '\(item.name)' is missing")
      }
      guard tensor.shape == item.shape else {
        throw .badFormat("tensor '\(item.name)' has shape \(tensor.shape), expected \(item.shape)")
      }
      guard tensor.values.allSatisfy(\.isFinite) else {
        throw .badFormat("tensor '\(item.name)' holds non-finite values")
      }
      if let destination = item.destination {
        destination.update(from: tensor.values, count: tensor.values.count)
      }
    }
  }

  /// Per tensor, the optimizer steps it has taken.
  static func tensorStepsJSON(_ infos: [TensorInfo], _ optimizer: OptimizerState) -> JSONValue {
    .object(infos.indices.map { (infos[$0].name, .number(Double(optimizer.tensorSteps[$0]))) })
  }

  /// Reads `tensorStepsJSON` back into `optimizer`.
  static func restoreTensorSteps(
    _ json: JSONValue?, _ infos: [TensorInfo], into optimizer: OptimizerState
  ) throws(SeqRNNError) {
    guard let json else { throw .badFormat("checkpoint field 'tensor_steps' is missing") }
    for (index, info) in infos.enumerated() {
      optimizer.tensorSteps[index] = try count(json[info.name], "tensor_steps.\(info.name)")
    }
  }

  /// A generator's state as four decimal strings.
  static func rngJSON(_ generator: SeededGenerator) -> JSONValue {
    .array(generator.state.map { .string(String($0)) })
  }

  /// Reads `rngJSON` back (`what` names the field in errors).
  static func rngState(_ json: JSONValue?, _ what: String) throws(SeqRNNError) -> [UInt64] {
    guard let words = json?.arrayValue, words.count == 4 else {
      throw .badFormat("checkpoint field '\(what)' is missing or not 4 words")
    }
    var state: [UInt64] = []
    for word in words {
      guard let text = word.stringValue, let value = UInt64(text) else {
        throw .badFormat(
          "checkpoint field '\(what)' holds a word that is not an unsigned integer string")
      }
      state.append(value)
    }
    guard state.contains(where: { $0 != 0 }) else {
      throw .badFormat(
        "checkpoint field '\(what)' is all zeros, which no generator state can be")
    }
    return state
  }

  /// The learning-rate schedule's state.
  static func scheduleJSON(_ schedule: LearningRateSchedule) -> JSONValue {
    .object([
      ("base_learning_rate", .number(Double(schedule.baseRate))),
      ("plateau_rate", text(schedule.plateauRate)),
      ("best", text(schedule.best)),
      ("bad_reports", .number(Double(schedule.badReports))),
      ("reports", .number(Double(schedule.reports))),
    ])
  }

  /// Reads `scheduleJSON` back into `schedule`.
  static func restoreSchedule(_ json: JSONValue?, into schedule: inout LearningRateSchedule)
    throws(SeqRNNError)
  {
    guard let json else { throw .badFormat("checkpoint field 'schedule' is missing") }
    guard let base = json["base_learning_rate"]?.doubleValue, Float(base).isFinite, base > 0
    else {
      throw .badFormat("checkpoint field 'schedule.base_learning_rate' is missing or not > 0")
    }
    schedule.setBaseRate(Float(base))
    schedule.plateauRate = try double(json["plateau_rate"], "schedule.plateau_rate")
    schedule.best = try double(json["best"], "schedule.best")
    schedule.badReports = try count(json["bad_reports"], "schedule.bad_reports")
    schedule.reports = try count(json["reports"], "schedule.reports")
  }

  /// The latest evaluation, or null.
  static func evaluationJSON(_ evaluation: Evaluation?) -> JSONValue {
    evaluation.map {
      .object([
        ("loss", text($0.loss)), ("accuracy", text($0.accuracy)),
        ("count", .number(Double($0.count))),
      ])
    } ?? .null
  }

  /// Reads `evaluationJSON` back.
  static func evaluation(_ json: JSONValue?) throws(SeqRNNError) -> Evaluation? {
    guard let json, !json.isNull else { return nil }
    return Evaluation(
      loss: try double(json["loss"], "last_evaluation.loss"),
      accuracy: try double(json["accuracy"], "last_evaluation.accuracy"),
      count: try count(json["count"], "last_evaluation.count"))
  }

  /// The data position (a caller's 64-bit integer) from its decimal string.
  static func dataPosition(_ json: JSONValue?) throws(SeqRNNError) -> Int64 {
    guard let text = json?.stringValue, let position = Int64(text) else {
      throw .badFormat("checkpoint field 'data_position' is missing or not an integer string")
    }
    return position
  }
}

extension Trainer {
  /// Saves everything needed to resume training bit-identically (weights,
  /// optimizer state, step count, schedule, mask RNG, carried states, frozen
  /// tensors, the options) plus `dataPosition`, a number of the caller's
  /// choosing (e.g. the next batch), as one safetensors file. The write is
  /// atomic: a crash during the save leaves the previous file intact.
  public func saveCheckpoint(to path: String, dataPosition: Int64 = 0) throws(SeqRNNError) {
    guard !path.isEmpty else { throw .invalidArgument("path is empty") }
    let layout = model.layout
    var tensors = CheckpointFile.tensors(
      layout.tensors, weights: model.parameters, optimizer: optimizer)
    if carry.batchSize > 0 {
      let config = model.configuration
      let shape = [config.numLayers * config.directions, carry.batchSize, config.hiddenSize]
      tensors.append(SafeTensor(name: "state.h", shape: shape, values: carry.hidden))
      if !carry.cell.isEmpty {
        tensors.append(SafeTensor(name: "state.c", shape: shape, values: carry.cell))
      }
    }
    let trainerState: JSONValue = .object([
      ("step_count", .number(Double(stepCount))),
      ("data_position", .string(String(dataPosition))),
      ("tensor_steps", CheckpointFile.tensorStepsJSON(layout.tensors, optimizer)),
      ("frozen", .array(frozenTensors.map { .string($0) })),
      ("rng", CheckpointFile.rngJSON(regularizer.random)),
      ("schedule", CheckpointFile.scheduleJSON(schedule)),
      ("last_evaluation", CheckpointFile.evaluationJSON(lastEvaluation)),
    ])
    try CheckpointFile.write(
      tensors,
      metadata: [
        ("format", CheckpointFile.format),
        ("format_version", String(CheckpointFile.formatVersion)),
        ("seqrnn_version", seqrnnVersion),
        ("config", serializeJSON(ModelFile.configurationJSON(model.configuration))),
        ("training", serializeJSON(CheckpointFile.optionsJSON(options))),
        ("trainer", serializeJSON(trainerState)),
      ], to: path)
  }

  /// Loads a checkpoint written by `saveCheckpoint`: a new model and a
  /// trainer that continue exactly where the saved one stopped, and the
  /// saved data position. Damaged files, files of another kind and files of
  /// a newer format version are refused with `.badFormat`,
  /// `.unsupportedVersion` or `.io`.
  public static func loadCheckpoint(from path: String) throws(SeqRNNError) -> (
    trainer: Trainer, dataPosition: Int64
  ) {
    let decoded = try CheckpointFile.read(
      path, format: CheckpointFile.format, formatVersion: CheckpointFile.formatVersion,
      kind: "seqrnn checkpoint",
      otherKinds: [
        "seqrnn": "a seqrnn model file, not a checkpoint (load it with seqrnn_model_load)"
      ])
    do {
      return try restore(
        config: try decoded.json("config"), training: try decoded.json("training"),
        state: try decoded.json("trainer"), decoded: decoded)
    } catch {
      if case .outOfMemory = error { throw error }
      throw .badFormat("\(path): \(error.message)")
    }
  }

  /// Builds the model and trainer of a decoded checkpoint.
  private static func restore(
    config configJSON: JSONValue, training: JSONValue, state: JSONValue,
    decoded: CheckpointFile.Decoded
  ) throws(SeqRNNError) -> (trainer: Trainer, dataPosition: Int64) {
    let config = try ModelFile.configuration(from: configJSON)
    let options = try CheckpointFile.options(from: training)
    let model = try Model(config)
    let trainer = try Trainer(model: model, options: options)
    let layout = model.layout

    // Tensors: every expected name exactly once, with its shape.
    var expected = CheckpointFile.expectedTensors(layout.tensors, optimizer: trainer.optimizer)
    let stateShape = decoded.byName["state.h"]?.shape
    if let shape = stateShape {
      guard shape.count == 3, shape[0] == config.numLayers * config.directions, shape[1] > 0,
        shape[2] == config.hiddenSize
      else {
        throw .badFormat(
          "tensor 'state.h' has shape \(shape), not [layers*directions, batch, hidden]")
      }
      expected.append(("state.h", shape, nil))
      if config.cell == .lstm { expected.append(("state.c", shape, nil)) }
    }
    try CheckpointFile.restoreTensors(decoded, expected: expected)
    for info in layout.tensors {
      try model.setTensor(named: info.name, decoded.byName[info.name]!.values)
    }
    if let shape = stateShape {
      trainer.carry.store(
        batchSize: shape[1], hidden: decoded.byName["state.h"]!.values,
        cell: config.cell == .lstm ? decoded.byName["state.c"]!.values : [])
    }

    // Counters, schedule, frozen tensors, RNG, last evaluation.
    trainer.stepCount = try CheckpointFile.count(state["step_count"], "step_count")
    let dataPosition = try CheckpointFile.dataPosition(state["data_position"])
    try CheckpointFile.restoreTensorSteps(
      state["tensor_steps"], layout.tensors, into: trainer.optimizer)
    guard let frozen = state["frozen"]?.arrayValue else {
      throw .badFormat("checkpoint field 'frozen' is missing or not an array")
    }
    for name in frozen {
      guard let text = name.stringValue, layout.indexByName[text] != nil else {
        throw .badFormat("checkpoint field 'frozen' names an unknown tensor")
      }
      try trainer.setFrozen(text, true)
    }
    trainer.regularizer.random.state = try CheckpointFile.rngState(state["rng"], "rng")
    try CheckpointFile.restoreSchedule(state["schedule"], into: &trainer.schedule)
    trainer.lastEvaluation = try CheckpointFile.evaluation(state["last_evaluation"])
    return (trainer, dataPosition)
  }
}
