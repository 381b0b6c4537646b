//===- fake_cuda_libdevice.cpp - libdevice's math for emulated kernels ----===//
//
// convert-gpu-to-nvvm turns math operations into calls of libdevice's
// __nv_* functions, which the NVPTX path links from the CUDA toolkit. The
// emulated kernels (kiln/kiln_gpu_emulation.h) find them here, as the C
// library's functions of the same meaning. libdevice's results are within
// a few ulp of these, not bitwise equal: tests of emulated kernels compare
// with tolerances, as against the GPU.
//
//===----------------------------------------------------------------------===//

#include <cmath>

#define NV extern "C" __attribute__((visibility("default")))

#define UNARY(name)                                                                                \
  NV float __nv_##name##f(float x) { return std::name(x); }                                       \
  NV double __nv_##name(double x) { return std::name(x); }
#define BINARY(name)                                                                               \
  NV float __nv_##name##f(float x, float y) { return std::name(x, y); }                           \
  NV double __nv_##name(double x, double y) { return std::name(x, y); }
// libdevice's faster, less exact float forms (for fast-math): the exact ones.
#define FAST(name)                                                                                 \
  NV float __nv_fast_##name##f(float x) { return std::name(x); }

UNARY(acos) UNARY(acosh) UNARY(asin) UNARY(asinh) UNARY(atan) UNARY(atanh) UNARY(cbrt)
UNARY(ceil) UNARY(cos) UNARY(cosh) UNARY(erf) UNARY(erfc) UNARY(exp) UNARY(exp2) UNARY(expm1)
UNARY(fabs) UNARY(floor) UNARY(lgamma) UNARY(log) UNARY(log10) UNARY(log1p) UNARY(log2)
UNARY(nearbyint) UNARY(rint) UNARY(round) UNARY(sin) UNARY(sinh) UNARY(sqrt) UNARY(tan)
UNARY(tanh) UNARY(tgamma) UNARY(trunc)
BINARY(atan2) BINARY(copysign) BINARY(fdim) BINARY(fmax) BINARY(fmin) BINARY(fmod) BINARY(hypot)
BINARY(pow) BINARY(remainder)
FAST(exp) FAST(log) FAST(log2) FAST(log10) FAST(sin) FAST(cos) FAST(tan)

NV float __nv_fast_powf(float x, float y) { return std::pow(x, y); }
NV float __nv_exp10f(float x) { return std::pow(10.0f, x); }
NV double __nv_exp10(double x) { return std::pow(10.0, x); }
NV float __nv_fast_exp10f(float x) { return std::pow(10.0f, x); }
NV float __nv_rsqrtf(float x) { return 1.0f / std::sqrt(x); }
NV double __nv_rsqrt(double x) { return 1.0 / std::sqrt(x); }
NV float __nv_rcbrtf(float x) { return 1.0f / std::cbrt(x); }
NV double __nv_rcbrt(double x) { return 1.0 / std::cbrt(x); }
NV float __nv_powif(float x, int n) { return float(std::pow(double(x), n)); }
NV double __nv_powi(double x, int n) { return std::pow(x, n); }
NV float __nv_fmaf(float x, float y, float z) { return std::fma(x, y, z); }
NV double __nv_fma(double x, double y, double z) { return std::fma(x, y, z); }
NV int __nv_isnanf(float x) { return std::isnan(x); }
NV int __nv_isnand(double x) { return std::isnan(x); }
NV int __nv_isinff(float x) { return std::isinf(x); }
NV int __nv_isinfd(double x) { return std::isinf(x); }
NV int __nv_finitef(float x) { return std::isfinite(x); }
NV int __nv_isfinited(double x) { return std::isfinite(x); }
NV int __nv_signbitf(float x) { return std::signbit(x); }
NV int __nv_signbitd(double x) { return std::signbit(x); }
NV int __nv_abs(int x) { return x < 0 ? int(0u - unsigned(x)) : x; } // INT_MIN stays INT_MIN
NV long long __nv_llabs(long long x) {
  return x < 0 ? (long long)(0ull - (unsigned long long)x) : x;
}
NV int __nv_popc(unsigned x) { return __builtin_popcount(x); }
NV int __nv_popcll(unsigned long long x) { return __builtin_popcountll(x); }
NV int __nv_clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
NV int __nv_clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }

// fptrunc to bfloat (half storage's bf16 stores, kiln-gpu-half-storage) is
// a compiler-rt call on a CPU without AVX512_BF16, which the emulated
// kernels then look for: round to nearest even, NaN kept quiet. The bf16
// comes back in the low 16 bits of xmm0, as a _Float16 does (GCC 12 has no
// __bf16 arithmetic type to declare it with).
#include <cstdint>
#include <cstring>
NV _Float16 __truncsfbf2(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  uint16_t rounded = (bits & 0x7fffffffu) > 0x7f800000u
                         ? uint16_t((bits >> 16) | 0x40u)
                         : uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  _Float16 result;
  std::memcpy(&result, &rounded, sizeof result);
  return result;
}
