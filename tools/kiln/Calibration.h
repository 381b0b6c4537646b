//===- Calibration.h - kiln compile --quantize int8-static ------*- C++ -*-===//
//
// `--quantize int8-static --calibration-data DIR`: before the int8 build,
// the fp32 model is compiled with each quantized layer's activation (A) as
// an extra output (kiln-expose-layer-inputs), run on every input set of DIR
// in this process, and each layer's one scale and zero point are chosen
// from the values its A took:
//
//   minmax      the smallest and largest value seen;
//   percentile  the P-th and (100-P)-th percentiles (default P = 99.999),
//               clipping the rare outliers;
//   entropy     the clipping threshold T of |A| whose 128-level
//               quantization of A's histogram loses the least information
//               (the KL divergence search of TensorRT's calibrator), the
//               range [max(min, -T), min(max, T)].
//
// Each range [lo, hi] widened to hold 0 gives the uint8 quantization
// scale = (hi - lo) / 255, zero point = rint(-lo / scale), as ONNX's
// DynamicQuantizeLinear derives them. docs/quantization.md has the method
// and the figures.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_CALIBRATION_H
#define KILN_TOOLS_KILN_CALIBRATION_H

#include "kiln/Compiler/Driver.h"
#include "llvm/Support/raw_ostream.h"
#include <string>

namespace kilncli {

enum class CalibrationMethod { MinMax, Percentile, Entropy };

struct CalibrationOptions {
  std::string data;                                     ///< --calibration-data
  CalibrationMethod method = CalibrationMethod::MinMax; ///< --calibration-method
  double percentile = 99.999;                           ///< --calibration-percentile
  bool methodGiven = false, percentileGiven = false;
  bool stats = false; ///< --stats: each layer's range on stderr
};

/// Parses --calibration-method; an error message, or "".
std::string parseCalibrationMethod(llvm::StringRef text, CalibrationOptions &options);

/// Why the calibration flags cannot go with `job`: --quantize int8-static
/// without --calibration-data, or --calibration-data with neither it nor a
/// structured --prune; a percentile outside (50, 100]. "" when they can.
std::string checkCalibrationOptions(const mlir::kiln::CompileJob &job,
                                    const CalibrationOptions &options);

/// Structured --prune with --calibration-data: runs the fp32 model on
/// options.data with the input of each block's last Linear layer (Wo, the
/// FFN's down-projection) as an extra output, and stores E|x_j| per
/// feature in job.options.layerInputMagnitude, which kiln-prune-structured
/// scores heads and neurons with; what it did goes to `log`. False with
/// `error` set (a bad input set, a failed compile or run).
bool measureLayerInputs(mlir::kiln::CompileJob &job, const CalibrationOptions &options,
                        std::string &error, llvm::raw_ostream &log);

/// Calibrates job.model's quantized layers on options.data and stores each
/// one's activation quantization in job.options; what it did (a summary
/// line, with options.stats each layer's range, a warning about
/// non-finite values) goes to `log`. False with `error` set for a bad
/// input set or a failed compile or run (the compile's diagnostics in it).
/// `kiln compile` and Python's kiln.compile (its _compiler module) call it.
bool calibrate(mlir::kiln::CompileJob &job, const CalibrationOptions &options, std::string &error,
               llvm::raw_ostream &log);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_CALIBRATION_H
