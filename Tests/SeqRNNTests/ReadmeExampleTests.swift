// The README's Swift example, verbatim, so it keeps compiling and running.

import Foundation
import SeqRNN
import Testing

@Test func readmeSwiftExampleRuns() throws {
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "seqrnn-readme-\(getpid())")
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  FileManager.default.changeCurrentDirectoryPath(directory.path)

  let config = ModelConfiguration(
    cell: .lstm, vocabSize: 8, hiddenSize: 32, numLayers: 2, outputSize: 8)
  let model = try Model(config)
  var options = TrainingOptions(optimizer: .adam, learningRate: 1e-2, clipNorm: 5)
  options.schedule = .cosine
  options.totalSteps = 100
  let trainer = try Trainer(model: model, options: options)
  let tokens: [Int32] = [1, 2, 3, 4, 5, 6]
  let batch = Batch(
    batchSize: 2, seqLen: 3, tokens: tokens, targetClasses: tokens.map { ($0 + 1) % 8 })
  for _ in 0..<20 { try trainer.step(batch) }
  let logits = try model.forward(Batch(batchSize: 2, seqLen: 3, tokens: tokens)).outputs
  let stream = try StreamingState(model: model, batchSize: 1)
  let next = try stream.step(tokens: [3])  // logits of one step
  try model.save(to: "model.safetensors")

  #expect(logits.count == 2 * 3 * 8 && next.count == 8)
  #expect(
    try Model.load(from: "model.safetensors").tensor(named: "head.bias")
      == model.tensor(named: "head.bias"))
  #expect(try trainer.step(batch) < 1.0, "20 steps learn the +1 mapping")
}
