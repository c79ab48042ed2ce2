import CSeqRNN
import SeqRNN

/// `seqrnn_trainer_save_checkpoint`.
@c @implementation
public func seqrnn_trainer_save_checkpoint(
  _ trainer: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ dataPosition: Int64
) -> seqrnn_status {
  guarded("seqrnn_trainer_save_checkpoint") { () throws(SeqRNNError) in
    let t = try unbox(trainer, TrainerHandle.self, "trainer").trainer
    let target = String(cString: try required(path, "path"))
    try t.saveCheckpoint(to: target, dataPosition: dataPosition)
  }
}

/// `seqrnn_trainer_load_checkpoint`.
@c @implementation
public func seqrnn_trainer_load_checkpoint(
  _ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?,
  _ outTrainer: UnsafeMutablePointer<OpaquePointer?>?,
  _ outDataPosition: UnsafeMutablePointer<Int64>?
) -> seqrnn_status {
  outModel?.pointee = nil
  outTrainer?.pointee = nil
  return guarded("seqrnn_trainer_load_checkpoint") { () throws(SeqRNNError) in
    let source = String(cString: try required(path, "path"))
    let modelOut = try required(outModel, "out_model")
    let trainerOut = try required(outTrainer, "out_trainer")
    let (trainer, position) = try Trainer.loadCheckpoint(from: source)
    modelOut.pointee = retainedHandle(ModelHandle(trainer.model))
    trainerOut.pointee = retainedHandle(TrainerHandle(trainer))
    outDataPosition?.pointee = position
  }
}
