//===- fma_peak.h - The CPU's measured fp32 FMA peak, in-process -*- C++ -*-===//
//
// The approach of bench/peak_probe.c compiled into the GEMM benchmark: each
// thread runs 12 independent FMA chains (c = c * a + b) on registers of the
// widest vector width the CPU has (AVX-512 or AVX2+FMA), so there is no
// memory traffic and the result is the arithmetic ceiling that a GEMM can
// approach but not pass. The vector code is compiled with target attributes,
// so this file needs no -m flags and runs only what the CPU supports.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_BENCH_GEMM_FMA_PEAK_H
#define KILN_BENCH_GEMM_FMA_PEAK_H

namespace kiln_bench {

/// The widest FMA ISA this CPU has: "avx512", "avx2" or nullptr (none).
const char *widestFmaIsa();

/// The best of `trials` trials of about `seconds` each, in fp32 GFLOP/s, of
/// `threads` threads running FMA chains together (started together; a
/// trial's time is its slowest thread's). 0 if the CPU has no FMA.
double measureFmaPeakGflops(int threads, double seconds, int trials);

/// The same on the calling thread alone, timed by its CPU time (so that
/// time another job had the core does not count).
double measureFmaPeakGflopsThisThread(double seconds, int trials);

} // namespace kiln_bench

#endif // KILN_BENCH_GEMM_FMA_PEAK_H
