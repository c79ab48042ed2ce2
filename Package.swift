// swift-tools-version: 6.1
// seqrnn: recurrent neural networks (RNN, LSTM, GRU) in Swift, with a C ABI.
//
// Targets, bottom to top (see docs/architecture.md):
//   CSeqRNNSupport  C: runtime BLAS loading (with the CPU-type fix), the thread team,
//                   thread-local errors
//   CSeqRNNKernels  C: SIMD exp/sigmoid/tanh, fused cell passes, the recurrence's own
//                   GEMM and its two-core time loop, per-CPU clones
//   SeqRNN          the pure-Swift core; also the library product for Swift embedders
//   CSeqRNN         exposes include/seqrnn.h (the ABI) to Swift
//   SeqRNNCAPI      `@c @implementation` exports of the header -> libseqrnn.so
import PackageDescription

let package = Package(
  name: "seqrnn",
  products: [
    .library(name: "SeqRNN", targets: ["SeqRNN"]),
    .library(name: "seqrnn", type: .dynamic, targets: ["SeqRNNCAPI"]),
  ],
  targets: [
    .target(
      name: "CSeqRNNSupport",
      dependencies: ["CSeqRNN"],
      linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
    ),
    .target(name: "CSeqRNNKernels", dependencies: ["CSeqRNNSupport"]),
    .target(name: "SeqRNN", dependencies: ["CSeqRNNSupport", "CSeqRNNKernels"]),
    .target(name: "CSeqRNN"),
    .target(
      name: "SeqRNNCAPI",
      dependencies: ["CSeqRNN", "CSeqRNNSupport", "SeqRNN"],
      exclude: ["exports.map"],
      linkerSettings: [
        // The shared library must stand alone: the Swift runtime is linked in
        // statically, only the header's seqrnn_* symbols are exported, and the
        // SONAME carries the ABI version. Embedders use the SeqRNN product,
        // which has no unsafe flags.
        .unsafeFlags(
          [
            "-static-stdlib",
            "-Xlinker", "-soname=libseqrnn.so.0",
            "-Xlinker", "--version-script=Sources/SeqRNNCAPI/exports.map",
          ],
          .when(platforms: [.linux])
        )
      ]
    ),
    .testTarget(name: "SeqRNNTests", dependencies: ["SeqRNN"]),
  ]
)
