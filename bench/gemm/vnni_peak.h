//===- vnni_peak.h - The CPU's measured int8 dot-product peak ---*- C++ -*-===//
//
// The int8 counterpart of fma_peak.h: 16 independent `vpdpbusd` chains
// (acc += u8 x s8, 4 products per int32 lane) on the widest registers with
// VNNI (AVX-512 VNNI zmm, else AVX-VNNI ymm), no memory traffic: the
// ceiling an int8 GEMM can approach. Compiled with target attributes, so
// the file needs no -m flags and runs only what the CPU supports.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_BENCH_GEMM_VNNI_PEAK_H
#define KILN_BENCH_GEMM_VNNI_PEAK_H

namespace kiln_bench {

/// The widest VNNI this CPU has: "avx512vnni", "avxvnni" or nullptr.
const char *widestVnniIsa();

/// The best of `trials` trials of about `seconds` each on the calling
/// thread, timed by its CPU time, in int8 GOP/s (a multiply-add counts 2,
/// as FLOPs do). 0 without VNNI.
double measureVnniPeakGops(double seconds, int trials);

} // namespace kiln_bench

#endif // KILN_BENCH_GEMM_VNNI_PEAK_H
