import CSeqRNN
import SeqRNN

/// The C struct of Swift training options.
func cTrainParams(_ o: TrainingOptions) -> seqrnn_train_params {
  seqrnn_train_params(
    optimizer: o.optimizer.rawValue, learning_rate: o.learningRate, momentum: o.momentum,
    beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, clip_norm: o.clipNorm)
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
    let p = params?.pointee ?? seqrnn_train_default_params()
    guard let optimizer = OptimizerKind(rawValue: p.optimizer) else {
      throw .invalidArgument(
        "params->optimizer = \(p.optimizer) is not a seqrnn_optimizer (0 or 1)")
    }
    let options = TrainingOptions(
      optimizer: optimizer, learningRate: p.learning_rate, momentum: p.momentum, beta1: p.beta1,
      beta2: p.beta2, epsilon: p.epsilon, clipNorm: p.clip_norm)
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
