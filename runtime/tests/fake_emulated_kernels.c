/*===- fake_emulated_kernels.c - Kernels in the emulation ABI, by hand ----===*
 *
 * What `kiln compile --gpu-emulation` links for a model's kernels
 * (kiln/kiln_gpu_emulation.h), written in C to test the fake driver's
 * emulator (fake_cuda_emulator.cpp) on cases chosen by hand: every shuffle
 * mode with whole and segmented warps, a block barrier, the special
 * registers, threads that could not all reach a shuffle on a GPU, races
 * (in global and in shared memory), the tensor cores' m16n8k16 product
 * (mma.sync) of small integers, ldmatrix's matrix loads, cp.async's
 * copies, groups and waits, and accesses less aligned than the code
 * assumes.
 * gpu_session_test.cpp loads it as a model's gpu_image (after the magic).
 *===----------------------------------------------------------------------===*/

#include "kiln/kiln_gpu_emulation.h"

#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

/* The emulator's functions: the driver that loads this library has them. */
int32_t kiln_emu_special_register(int32_t which);
int64_t kiln_emu_shfl(int32_t kind, int32_t mask, int32_t bits, int32_t b, int32_t c);
void kiln_emu_barrier(void);
void kiln_emu_access(const void *address, int64_t bytes, int32_t write);
void kiln_emu_mma(int32_t kind, uint32_t *fragments);
void kiln_emu_ldmatrix(int32_t shape, const void *row, uint32_t *registers);
void kiln_emu_cp_async(void *dst, const void *src, int32_t bytes);
void kiln_emu_cp_async_commit(void);
void kiln_emu_cp_async_wait(int32_t newest);

static int32_t linearThread(void) {
  return kiln_emu_special_register(KILN_EMU_TID_X) +
         kiln_emu_special_register(KILN_EMU_NTID_X) *
             kiln_emu_special_register(KILN_EMU_TID_Y);
}

/* shuffle(out, kind, b, c): out[t] = the value of lane t's shuffle of
 * 100 + t, out[n + t] = its predicate, for the n threads of one block. */
EXPORT const kiln_emu_kernel_info kiln_emu_info_shuffle = {4, 1};
EXPORT void kiln_emu_kernel_shuffle(void **params) {
  int32_t *out = *(int32_t **)params[0];
  int32_t kind = *(int32_t *)params[1], b = *(int32_t *)params[2], c = *(int32_t *)params[3];
  int32_t t = linearThread();
  int32_t n = kiln_emu_special_register(KILN_EMU_NTID_X) *
              kiln_emu_special_register(KILN_EMU_NTID_Y);
  int64_t packed = kiln_emu_shfl(kind, -1, 100 + t, b, c);
  out[t] = (int32_t)packed;
  out[n + t] = (int32_t)(packed >> 32);
}

/* rotate(out): each thread stores t + 1 into its block's part of an array
 * (as a GPU's shared memory, one per block), waits at the barrier, then
 * reads its neighbour's: right only if every thread of the block stored
 * before any read. */
static int32_t shared[4096];
EXPORT const kiln_emu_kernel_info kiln_emu_info_rotate = {1, 1};
EXPORT void kiln_emu_kernel_rotate(void **params) {
  int32_t *out = *(int32_t **)params[0];
  int32_t t = kiln_emu_special_register(KILN_EMU_TID_X);
  int32_t n = kiln_emu_special_register(KILN_EMU_NTID_X);
  int32_t block = kiln_emu_special_register(KILN_EMU_CTAID_X);
  int32_t *mine = &shared[block * n];
  kiln_emu_access(&mine[t], 4, 1);
  mine[t] = t + 1;
  kiln_emu_barrier();
  kiln_emu_access(&mine[(t + 1) % n], 4, 0);
  kiln_emu_access(&out[block * n + t], 4, 1);
  out[block * n + t] = mine[(t + 1) % n];
}

/* rotate_shared(out, barrier): rotate through one array that every block
 * uses, reported as shared memory (as a GPU's __shared__ array: each block
 * has its own, which the emulator's blocks take turns with); without the
 * barrier, a race within the block. */
static int32_t blockShared[1024];
EXPORT const kiln_emu_kernel_info kiln_emu_info_rotate_shared = {2, 1};
EXPORT void kiln_emu_kernel_rotate_shared(void **params) {
  int32_t *out = *(int32_t **)params[0];
  int32_t barrier = *(int32_t *)params[1];
  int32_t t = kiln_emu_special_register(KILN_EMU_TID_X);
  int32_t n = kiln_emu_special_register(KILN_EMU_NTID_X);
  int32_t block = kiln_emu_special_register(KILN_EMU_CTAID_X);
  kiln_emu_access(&blockShared[t], 4, KILN_EMU_ACCESS_WRITE | KILN_EMU_ACCESS_SHARED);
  blockShared[t] = block * 1000 + t + 1;
  if (barrier)
    kiln_emu_barrier();
  kiln_emu_access(&blockShared[(t + 1) % n], 4, KILN_EMU_ACCESS_SHARED);
  kiln_emu_access(&out[block * n + t], 4, KILN_EMU_ACCESS_WRITE);
  out[block * n + t] = blockShared[(t + 1) % n];
}

/* racy_sum(out): every thread adds 1 into out[0], with no atomics or
 * barrier: a race on a GPU, whatever the emulator's sequential sum says.
 * (Accesses reported as compiled kernels report theirs.) */
EXPORT const kiln_emu_kernel_info kiln_emu_info_racy_sum = {1, 0};
EXPORT void kiln_emu_kernel_racy_sum(void **params) {
  int32_t *out = *(int32_t **)params[0];
  kiln_emu_access(out, 4, 0);
  int32_t sum = *out;
  kiln_emu_access(out, 4, 1);
  *out = sum + 1;
}

/* positions(out): out[global thread] = tid.x + 10 tid.y + 100 ctaid.x +
 * 1000 ctaid.y + 10000 laneid, over a 2D grid of 2D blocks; no
 * synchronization: the threads run one after another. */
EXPORT const kiln_emu_kernel_info kiln_emu_info_positions = {1, 0};
EXPORT void kiln_emu_kernel_positions(void **params) {
  int32_t *out = *(int32_t **)params[0];
  int32_t bx = kiln_emu_special_register(KILN_EMU_NTID_X);
  int32_t by = kiln_emu_special_register(KILN_EMU_NTID_Y);
  int32_t gx = kiln_emu_special_register(KILN_EMU_NCTAID_X);
  int32_t cx = kiln_emu_special_register(KILN_EMU_CTAID_X);
  int32_t cy = kiln_emu_special_register(KILN_EMU_CTAID_Y);
  int32_t tx = kiln_emu_special_register(KILN_EMU_TID_X);
  int32_t ty = kiln_emu_special_register(KILN_EMU_TID_Y);
  int32_t block = cy * gx + cx;
  out[block * bx * by + ty * bx + tx] =
      tx + 10 * ty + 100 * cx + 1000 * cy + 10000 * kiln_emu_special_register(KILN_EMU_LANEID);
}

/* half_shuffle(): only lanes 0-15 shuffle, with a full member mask: on a
 * GPU the result is undefined (or the warp hangs); the emulator reports it. */
EXPORT const kiln_emu_kernel_info kiln_emu_info_half_shuffle = {0, 1};
EXPORT void kiln_emu_kernel_half_shuffle(void **params) {
  (void)params;
  if (kiln_emu_special_register(KILN_EMU_LANEID) < 16)
    kiln_emu_shfl(KILN_EMU_SHFL_BFLY, -1, 1, 1, 31);
}

/* The operands of the mma test: small integers, exact in f16 and bf16. */
static int mmaA(int row, int k) { return (row * 3 + k * 5) % 7 - 3; }
static int mmaB(int k, int column) { return (k * 2 + column) % 5 - 2; }
static int mmaC(int row, int column) { return row - 2 * column; }

/* An integer of magnitude below 2^8 as f16 or bf16 bits. */
static uint32_t halfBits(int32_t kind, int v) {
  if (v == 0)
    return 0;
  uint32_t sign = v < 0 ? 0x8000u : 0u, m = (uint32_t)(v < 0 ? -v : v);
  int e = 0;
  while ((m >> (e + 1)) != 0)
    ++e;
  if (kind == KILN_EMU_MMA_BF16) /* 8 exponent bits, 7 of mantissa */
    return sign | (uint32_t)(e + 127) << 7 | ((m << (7 - e)) & 0x7fu);
  return sign | (uint32_t)(e + 15) << 10 | ((m << (10 - e)) & 0x3ffu);
}

static uint32_t pair(int32_t kind, int low, int high) {
  return halfBits(kind, low) | halfBits(kind, high) << 16;
}

/* mma(out, kind): one warp's D = A B + C (16 x 16 by 16 x 8, f32 C), each
 * lane's fragments laid out as the PTX ISA gives them for m16n8k16
 * (group = lane / 4, index = lane % 4); out[row * 8 + column] = D as f32
 * bits, written by the lane that holds it. With `exit_half` non-zero the
 * upper 16 lanes return first: not a warp a GPU could run it in. */
EXPORT const kiln_emu_kernel_info kiln_emu_info_mma = {3, 1};
EXPORT void kiln_emu_kernel_mma(void **params) {
  uint32_t *out = *(uint32_t **)params[0];
  int32_t kind = *(int32_t *)params[1], exitHalf = *(int32_t *)params[2];
  int32_t lane = kiln_emu_special_register(KILN_EMU_LANEID);
  if (exitHalf && lane >= 16)
    return;
  int g = lane / 4, t = lane % 4;
  uint32_t words[10];
  for (int r = 0; r < 4; ++r) {
    int row = g + 8 * (r & 1), k = 2 * t + 8 * (r >> 1);
    words[r] = pair(kind, mmaA(row, k), mmaA(row, k + 1));
  }
  for (int r = 0; r < 2; ++r) {
    int k = 2 * t + 8 * r;
    words[4 + r] = pair(kind, mmaB(k, g), mmaB(k + 1, g));
  }
  for (int j = 0; j < 4; ++j) {
    float c = (float)mmaC(g + 8 * (j >> 1), 2 * t + (j & 1));
    __builtin_memcpy(&words[6 + j], &c, sizeof c);
  }
  kiln_emu_mma(kind, words);
  for (int j = 0; j < 4; ++j)
    out[(g + 8 * (j >> 1)) * 8 + 2 * t + (j & 1)] = words[6 + j];
}

/* ldmatrix(out, shape, misalign): each lane writes row lane % 8 of matrix
 * lane / 8 of four 8x8 matrices of 16-bit values in shared memory (value
 * 64 * matrix + 8 * row + column), waits at the barrier, then names that
 * row in kiln_emu_ldmatrix(shape); out[4 * lane + m] = its register m,
 * for the shape's count of matrices. With `misalign`
 * non-zero lane 0 names an address 2 bytes past its row. */
static uint16_t matrices[4][8][8] __attribute__((aligned(16)));
EXPORT const kiln_emu_kernel_info kiln_emu_info_ldmatrix = {3, 1};
EXPORT void kiln_emu_kernel_ldmatrix(void **params) {
  uint32_t *out = *(uint32_t **)params[0];
  int32_t shape = *(int32_t *)params[1], misalign = *(int32_t *)params[2];
  int32_t lane = kiln_emu_special_register(KILN_EMU_LANEID);
  uint16_t *row = matrices[lane / 8][lane % 8];
  for (int c = 0; c < 8; ++c) {
    kiln_emu_access(&row[c], 2, KILN_EMU_ACCESS_WRITE | KILN_EMU_ACCESS_SHARED);
    row[c] = (uint16_t)(64 * (lane / 8) + 8 * (lane % 8) + c);
  }
  kiln_emu_barrier();
  uint32_t registers[4];
  kiln_emu_ldmatrix(shape, misalign && lane == 0 ? (const char *)row + 2 : (const void *)row,
                    registers);
  for (int m = 0; m < (shape & ~KILN_EMU_LDMATRIX_TRANS); ++m)
    out[4 * lane + m] = registers[m];
}

/* misaligned(out, offset): thread 0 reports a 4-byte load at out + offset
 * bytes that the code takes to be 4-byte aligned. */
EXPORT const kiln_emu_kernel_info kiln_emu_info_misaligned = {2, 0};
EXPORT void kiln_emu_kernel_misaligned(void **params) {
  char *out = *(char **)params[0];
  int32_t offset = *(int32_t *)params[1];
  if (kiln_emu_special_register(KILN_EMU_TID_X) == 0)
    kiln_emu_access(out + offset, 4, 2 << KILN_EMU_ACCESS_ALIGN_SHIFT);
}

/* cp_async(out, offset): each of 32 threads copies 16 bytes (source
 * values 1000 + 4t to 1000 + 4t + 3) into its part of shared memory by
 * cp.async, then commits a group; thread 15 commits once more before that
 * (its copy alone in its first group, its second group empty). What each
 * thread reads of its destination: out[t] before any wait (the old 0),
 * out[32 + t] after waiting for all but the newest group (thread 15's copy
 * only has landed), out[64 + t] after waiting for all. `offset` (bytes)
 * moves the source: 16-byte copies need it 16-byte aligned. */
static int32_t asyncSource[256] __attribute__((aligned(16)));
static int32_t asyncShared[128] __attribute__((aligned(16)));
EXPORT const kiln_emu_kernel_info kiln_emu_info_cp_async = {2, 1};
EXPORT void kiln_emu_kernel_cp_async(void **params) {
  int32_t *out = *(int32_t **)params[0];
  int32_t offset = *(int32_t *)params[1];
  int32_t t = kiln_emu_special_register(KILN_EMU_TID_X);
  for (int i = 0; i < 4; ++i)
    asyncSource[4 * t + i] = 1000 + 4 * t + i;
  asyncShared[4 * t] = 0;
  const char *source = (const char *)&asyncSource[4 * t] + offset;
  kiln_emu_cp_async(&asyncShared[4 * t], source, 16);
  if (t == 15)
    kiln_emu_cp_async_commit(); /* thread 15: its copy alone in group 0 */
  out[t] = asyncShared[4 * t];
  kiln_emu_cp_async_commit();
  kiln_emu_cp_async_wait(1);
  out[32 + t] = asyncShared[4 * t];
  kiln_emu_cp_async_wait(0);
  out[64 + t] = asyncShared[4 * t];
}
