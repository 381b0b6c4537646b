//===- FloatMode.h - The floating-point mode a run computes in --*- C++ -*-===//
//
// Values below FLT_MIN (denormals) cost x86 cores ~100 times an ordinary
// operation, and attention produces them: softmax probabilities of far-off
// keys, and everything computed from them. A run therefore computes with
// denormals flushed to zero (MXCSR FTZ and DAZ) unless the session asks to
// keep them; the difference is below 1.2e-38 per value. The thread pool
// carries the submitting thread's mode to the workers for each job.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_FLOATMODE_H
#define KILN_RUNTIME_FLOATMODE_H

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace kiln {

/// The calling thread's floating-point control state (MXCSR on x86; 0
/// elsewhere, where the mode is left alone).
inline uint32_t currentFloatMode() {
#if defined(__x86_64__) || defined(__i386__)
  return _mm_getcsr();
#else
  return 0;
#endif
}

inline void setFloatMode(uint32_t mode) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(mode);
#else
  (void)mode;
#endif
}

/// `mode` with denormal results flushed to zero and denormal inputs read
/// as zero.
inline uint32_t withDenormalsFlushed(uint32_t mode) {
#if defined(__x86_64__) || defined(__i386__)
  constexpr uint32_t kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  return mode | kFlushToZero | kDenormalsAreZero;
#else
  return mode;
#endif
}

/// Sets a mode for a scope and restores the previous one.
class FloatModeScope {
public:
  explicit FloatModeScope(uint32_t mode) : saved(currentFloatMode()) {
    if (mode != saved)
      setFloatMode(mode);
  }
  ~FloatModeScope() {
    if (currentFloatMode() != saved)
      setFloatMode(saved);
  }
  FloatModeScope(const FloatModeScope &) = delete;
  FloatModeScope &operator=(const FloatModeScope &) = delete;

private:
  uint32_t saved;
};

} // namespace kiln

#endif // KILN_RUNTIME_FLOATMODE_H
