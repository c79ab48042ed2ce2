import CSeqRNN
import SeqRNN

/// The C struct of Swift training options.
func cTrainParams(_ o: TrainingOptions) -> seqrnn_train_params {
  seqrnn_train_params(
    optimizer: o.optimizer.rawValue, learning_rate: o.learningRate, momentum: o.momentum,
    beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, clip_norm: o.clipNorm,
    nesterov: o.nesterov ? 1 : 0, rmsprop_alpha: o.rmspropAlpha, l2_penalty: o.l2Penalty,
    weight_decay: o.weightDecay, clip_value: o.clipValue, schedule: o.schedule.rawValue,
    step_size: Int64(o.stepSize), gamma: o.gamma, warmup_steps: Int64(o.warmupSteps),
    total_steps: Int64(o.totalSteps), min_learning_rate: o.minLearningRate,
    patience: Int64(o.patience), plateau_maximize: o.plateauMaximize ? 1 : 0,
    stateful: o.stateful ? 1 : 0, seed: o.seed)
}

/// Swift training options from the C struct, rejecting unknown enum values
/// and out-of-range integers.
func trainingOptions(_ p: seqrnn_train_params) throws(SeqRNNError) -> TrainingOptions {
  guard let optimizer = OptimizerKind(rawValue: p.optimizer) else {
    throw .invalidArgument("params->optimizer = \(p.optimizer) is not a seqrnn_optimizer (0...3)")
  }
  guard let schedule = ScheduleKind(rawValue: p.schedule) else {
    throw .invalidArgument("params->schedule = \(p.schedule) is not a seqrnn_schedule (0...4)")
  }
  for (name, flag) in [
    ("nesterov", p.nesterov), ("plateau_maximize", p.plateau_maximize), ("stateful", p.stateful),
  ] where flag != 0 && flag != 1 {
    throw .invalidArgument("params->\(name) must be 0 or 1, got \(flag)")
  }
  for (name, value) in [
    ("step_size", p.step_size), ("warmup_steps", p.warmup_steps), ("total_steps", p.total_steps),
    ("patience", p.patience),
  ] where value < 0 || value > Int64(Int32.max) {
    throw .invalidArgument("params->\(name) must be in [0, \(Int32.max)], got \(value)")
  }
  var o = TrainingOptions(
    optimizer: optimizer, learningRate: p.learning_rate, momentum: p.momentum, beta1: p.beta1,
    beta2: p.beta2, epsilon: p.epsilon, clipNorm: p.clip_norm)
  o.nesterov = p.nesterov == 1
  o.rmspropAlpha = p.rmsprop_alpha
  o.l2Penalty = p.l2_penalty
  o.weightDecay = p.weight_decay
  o.clipValue = p.clip_value
  o.schedule = schedule
  o.stepSize = Int(p.step_size)
  o.gamma = p.gamma
  o.warmupSteps = Int(p.warmup_steps)
  o.totalSteps = Int(p.total_steps)
  o.minLearningRate = p.min_learning_rate
  o.patience = Int(p.patience)
  o.plateauMaximize = p.plateau_maximize == 1
  o.stateful = p.stateful == 1
  o.seed = p.seed
  return o
}

/// `seqrnn_train_default_params`.
@c @implementation
public func seqrnn_train_default_params() -> seqrnn_train_params {
  cTrainParams(TrainingOptions())
}

/// `seqrnn_trainer_create`.
@c @implementation
public func seqrnn_trainer_create(
  _ model: OpaquePointer?, _ params: UnsafePointer<seqrnn_train_params>?,
  _ outTrainer: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outTrainer?.pointee = nil
  return guarded("seqrnn_trainer_create") { () throws(SeqRNNError) in
    let handle = try unbox(model, ModelHandle.self, "model")
    let out = try required(outTrainer, "out_trainer")
    let options = try trainingOptions(params?.pointee ?? seqrnn_train_default_params())
    out.pointee = retainedHandle(TrainerHandle(try Trainer(model: handle.model, options: options)))
  }
}

/// `seqrnn_trainer_free`.
@c @implementation
public func seqrnn_trainer_free(_ trainer: OpaquePointer?) { release(trainer, TrainerHandle.self) }

/// `seqrnn_trainer_step`.
@c @implementation
public func seqrnn_trainer_step(
  _ trainer: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?,
  _ outLoss: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_trainer_step") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let input = try engineInput(batch, t.model.configuration, needTargets: true)
    let loss = try t.step(input)
    outLoss?.pointee = loss
  }
}

/// `seqrnn_trainer_compute_gradients`.
@c @implementation
public func seqrnn_trainer_compute_gradients(
  _ trainer: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?,
  _ outLoss: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_trainer_compute_gradients") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let input = try engineInput(batch, t.model.configuration, needTargets: true)
    let loss = try t.computeGradients(input)
    outLoss?.pointee = loss
  }
}

/// `seqrnn_trainer_get_gradient`.
@c @implementation
public func seqrnn_trainer_get_gradient(
  _ trainer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_trainer_get_gradient") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let (source, count) = try t.gradientPointer(named: try nameArgument(name))
    let destination = try required(out, "out")
    try ensureCapacity(capacity, count, "out")
    destination.update(from: source, count: count)
  }
}

/// `seqrnn_trainer_set_learning_rate`.
@c @implementation
public func seqrnn_trainer_set_learning_rate(
  _ trainer: OpaquePointer?, _ learningRate: Float
) -> seqrnn_status {
  guarded("seqrnn_trainer_set_learning_rate") { () throws(SeqRNNError) in
    try unbox(trainer, TrainerHandle.self, "trainer").trainer.setLearningRate(learningRate)
  }
}

/// `seqrnn_trainer_step_count`.
@c @implementation
public func seqrnn_trainer_step_count(
  _ trainer: OpaquePointer?, _ outSteps: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_trainer_step_count") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    try required(outSteps, "out_steps").pointee = Int64(t.stepCount)
  }
}

/// `seqrnn_trainer_last_evaluation`.
@c @implementation
public func seqrnn_trainer_last_evaluation(
  _ trainer: OpaquePointer?, _ outEvaluation: UnsafeMutablePointer<seqrnn_evaluation>?
) -> seqrnn_status {
  guarded("seqrnn_trainer_last_evaluation") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let out = try required(outEvaluation, "out_evaluation")
    let last = t.lastEvaluation ?? Evaluation(loss: .nan, accuracy: .nan, count: 0)
    out.pointee = seqrnn_evaluation(
      loss: last.loss, accuracy: last.accuracy, count: Int64(last.count))
  }
}

/// `seqrnn_trainer_learning_rate`.
@c @implementation
public func seqrnn_trainer_learning_rate(
  _ trainer: OpaquePointer?, _ outLearningRate: UnsafeMutablePointer<Float>?
) -> seqrnn_status {
  guarded("seqrnn_trainer_learning_rate") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    try required(outLearningRate, "out_learning_rate").pointee = t.learningRate
  }
}

/// `seqrnn_trainer_report_metric`.
@c @implementation
public func seqrnn_trainer_report_metric(_ trainer: OpaquePointer?, _ value: Double)
  -> seqrnn_status
{
  guarded("seqrnn_trainer_report_metric") { () throws(SeqRNNError) in
    try unbox(trainer, TrainerHandle.self, "trainer").trainer.reportMetric(value)
  }
}

/// `seqrnn_trainer_set_frozen`.
@c @implementation
public func seqrnn_trainer_set_frozen(
  _ trainer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ frozen: Int32
) -> seqrnn_status {
  guarded("seqrnn_trainer_set_frozen") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let tensor = try nameArgument(name)
    guard frozen == 0 || frozen == 1 else {
      throw .invalidArgument("frozen must be 0 or 1, got \(frozen)")
    }
    try t.setFrozen(tensor, frozen == 1)
  }
}
