import CSeqRNN
import SeqRNN

// `seqrnn_metrics *` points to a `MetricsAccumulator` (boxed with one
// retain by `_create`, released by `_free`).

/// `seqrnn_metrics_create`.
@c @implementation
public func seqrnn_metrics_create(
  _ numClasses: Int64, _ outMetrics: UnsafeMutablePointer<OpaquePointer?>?
) -> seqrnn_status {
  outMetrics?.pointee = nil
  return guarded("seqrnn_metrics_create") { () throws(SeqRNNError) in
    let out = try required(outMetrics, "out_metrics")
    guard numClasses >= 0, numClasses <= Int64(MetricsAccumulator.maxClasses) else {
      throw .invalidArgument(
        "num_classes must be in [0, \(MetricsAccumulator.maxClasses)], got \(numClasses)")
    }
    out.pointee = retainedHandle(try MetricsAccumulator(numClasses: Int(numClasses)))
  }
}

/// `seqrnn_metrics_free`.
@c @implementation
public func seqrnn_metrics_free(_ metrics: OpaquePointer?) {
  release(metrics, MetricsAccumulator.self)
}

/// `seqrnn_metrics_reset`.
@c @implementation
public func seqrnn_metrics_reset(_ metrics: OpaquePointer?) -> seqrnn_status {
  guarded("seqrnn_metrics_reset") { () throws(SeqRNNError) in
    try unbox(metrics, MetricsAccumulator.self, "metrics").reset()
  }
}

/// `seqrnn_metrics_update`.
@c @implementation
public func seqrnn_metrics_update(
  _ metrics: OpaquePointer?, _ model: OpaquePointer?, _ batch: UnsafePointer<seqrnn_batch>?
) -> seqrnn_status {
  guarded("seqrnn_metrics_update") { () throws(SeqRNNError) in
    let accumulator = try unbox(metrics, MetricsAccumulator.self, "metrics")
    let handle = try unbox(model, ModelHandle.self, "model")
    let input = try engineInput(batch, handle.model.configuration, needTargets: true)
    try accumulator.update(model: handle.model, input: input)
  }
}

/// `seqrnn_metrics_add_predictions`.
@c @implementation
public func seqrnn_metrics_add_predictions(
  _ metrics: OpaquePointer?, _ predicted: UnsafePointer<Int32>?,
  _ targets: UnsafePointer<Int32>?, _ count: Int64
) -> seqrnn_status {
  guarded("seqrnn_metrics_add_predictions") { () throws(SeqRNNError) in
    let accumulator = try unbox(metrics, MetricsAccumulator.self, "metrics")
    guard count >= 0, count <= Int64(Int32.max) * 64 else {
      throw .invalidArgument("count must be in [0, 2^37], got \(count)")
    }
    try accumulator.addPredictions(predicted, targets: targets, count: Int(count))
  }
}

/// `seqrnn_metrics_get_summary`.
@c @implementation
public func seqrnn_metrics_get_summary(
  _ metrics: OpaquePointer?, _ outSummary: UnsafeMutablePointer<seqrnn_metrics_summary>?
) -> seqrnn_status {
  guarded("seqrnn_metrics_get_summary") { () throws(SeqRNNError) in
    let accumulator = try unbox(metrics, MetricsAccumulator.self, "metrics")
    let out = try required(outSummary, "out_summary")
    let s = accumulator.summary
    out.pointee = seqrnn_metrics_summary(
      loss: s.loss, perplexity: s.perplexity, bits_per_token: s.bitsPerToken,
      accuracy: s.accuracy, macro_precision: s.macroPrecision, macro_recall: s.macroRecall,
      macro_f1: s.macroF1, count: Int64(s.count))
  }
}

/// `seqrnn_metrics_get_class`.
@c @implementation
public func seqrnn_metrics_get_class(
  _ metrics: OpaquePointer?, _ classIndex: Int64, _ outPrecision: UnsafeMutablePointer<Double>?,
  _ outRecall: UnsafeMutablePointer<Double>?, _ outF1: UnsafeMutablePointer<Double>?,
  _ outSupport: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  guarded("seqrnn_metrics_get_class") { () throws(SeqRNNError) in
    let accumulator = try unbox(metrics, MetricsAccumulator.self, "metrics")
    guard classIndex >= 0, classIndex < Int64(accumulator.numClasses) else {
      throw .outOfRange(
        "class_index \(classIndex) is outside [0, num_classes = \(accumulator.numClasses))")
    }
    let m = try accumulator.classMetrics(Int(classIndex))
    outPrecision?.pointee = m.precision
    outRecall?.pointee = m.recall
    outF1?.pointee = m.f1
    outSupport?.pointee = Int64(m.support)
  }
}

/// `seqrnn_metrics_get_confusion`.
@c @implementation
public func seqrnn_metrics_get_confusion(
  _ metrics: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?, _ capacity: Int64
) -> seqrnn_status {
  guarded("seqrnn_metrics_get_confusion") { () throws(SeqRNNError) in
    let accumulator = try unbox(metrics, MetricsAccumulator.self, "metrics")
    let destination = try required(out, "out")
    let needed = accumulator.numClasses * accumulator.numClasses
    try ensureCapacity(capacity, needed, "out")
    // Int64 and Int have the same layout on the 64-bit platforms seqrnn
    // supports.
    destination.withMemoryRebound(to: Int.self, capacity: needed) {
      accumulator.copyConfusion(to: $0)
    }
  }
}
