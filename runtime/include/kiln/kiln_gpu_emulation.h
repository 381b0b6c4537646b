/*===- kiln_gpu_emulation.h - Kernels compiled for the CPU, for tests -----===*
 *
 * `kiln compile --target cuda --gpu-emulation` compiles a GPU model's
 * kernels for the host CPU instead of PTX: the model is the same (host
 * code, launches, GEMM calls, memory plan), and its gpu_image is a host
 * shared library, prefixed with KILN_GPU_EMULATION_MAGIC, that Kiln's test
 * CUDA driver (runtime/tests/fake_cuda.cpp) loads and runs thread by thread.
 * This is how the GPU path's numerics are tested on machines without a GPU;
 * a real CUDA driver refuses such an image.
 *
 * What the compiler and the test driver agree on:
 *  - each kernel `K` is exported as `void kiln_emu_kernel_K(void **params)`
 *    (params as cuLaunchKernel takes them: a pointer to each parameter) and
 *    `const kiln_emu_kernel_info kiln_emu_info_K`;
 *  - the kernels call back into the driver for what PTX has and C does not:
 *    special registers, warp shuffles, block barriers, the tensor cores'
 *    warp-wide matrix products and matrix loads, asynchronous copies to
 *    shared memory (below), and
 *    libdevice's __nv_* math functions, which the driver also provides.
 *
 * The compiler and the test driver include this header; the runtime only
 * recognizes the magic to say what such a model needs.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_GPU_EMULATION_H
#define KILN_GPU_EMULATION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The first bytes of an emulated kernels image; the shared library follows. */
#define KILN_GPU_EMULATION_MAGIC "KILN-EMULATED-KERNELS-1\n"
#define KILN_GPU_EMULATION_MAGIC_SIZE 24

#define KILN_EMU_KERNEL_PREFIX "kiln_emu_kernel_"
#define KILN_EMU_INFO_PREFIX "kiln_emu_info_"

typedef struct kiln_emu_kernel_info {
  uint32_t num_params;
  /* Non-zero when the kernel shuffles within warps or waits at barriers:
   * its threads then run as coroutines that switch at those points. */
  uint32_t synchronizes;
} kiln_emu_kernel_info;

/* int32_t kiln_emu_special_register(int32_t which): PTX's %tid, %ntid,
 * %ctaid, %nctaid (.x, .y, .z), %laneid and WARP_SZ for the calling thread. */
enum kiln_emu_special_register {
  KILN_EMU_TID_X = 0, KILN_EMU_TID_Y, KILN_EMU_TID_Z,
  KILN_EMU_NTID_X, KILN_EMU_NTID_Y, KILN_EMU_NTID_Z,
  KILN_EMU_CTAID_X, KILN_EMU_CTAID_Y, KILN_EMU_CTAID_Z,
  KILN_EMU_NCTAID_X, KILN_EMU_NCTAID_Y, KILN_EMU_NCTAID_Z,
  KILN_EMU_LANEID, KILN_EMU_WARPSIZE
};

/* int64_t kiln_emu_shfl(int32_t kind, int32_t member_mask, int32_t bits,
 *                       int32_t b, int32_t c): PTX's shfl.sync with `kind`
 * one of these, the value's 32 bits, the lane operand b and the packed
 * clamp/segment mask c. Returns the value's bits in the low 32 bits and
 * the predicate (source lane in range) in bit 32. */
enum kiln_emu_shfl_kind {
  KILN_EMU_SHFL_IDX = 0, KILN_EMU_SHFL_UP, KILN_EMU_SHFL_DOWN, KILN_EMU_SHFL_BFLY
};

/* void kiln_emu_barrier(void): PTX's bar.sync 0 over the whole block. */

/* void kiln_emu_mma(int32_t kind, uint32_t *fragments): PTX's
 * mma.sync.aligned.m16n8k16.row.col.f32.T.T.f32 for the calling lane, T
 * the kind's 16-bit type. fragments[0..3] are the lane's registers of A,
 * [4..5] of B (two 16-bit values each, the lower-indexed one in the low
 * half), [6..9] the bits of its four f32 of C; on return [6..9] hold D's.
 * The fragments are laid out as the PTX ISA gives them for this shape;
 * every lane of the warp must take part. */
enum kiln_emu_mma_kind { KILN_EMU_MMA_F16 = 0, KILN_EMU_MMA_BF16 = 1 };

/* void kiln_emu_ldmatrix(int32_t shape, const void *row, uint32_t *registers):
 * PTX's ldmatrix.sync.aligned.m8n8.xN{.trans}.shared.b16 for the calling
 * lane, shape N (1, 2 or 4), or'ed with KILN_EMU_LDMATRIX_TRANS for .trans.
 * `row` is the shared memory address the lane names: lanes 8i to 8i + 7
 * the rows 0 to 7 of matrix i (eight 16-bit values, 16 bytes, 16-byte
 * aligned); the other lanes' are not read. registers[0..N-1] receive the
 * lane's part of each matrix: row lane / 4, columns 2 * (lane % 4) and
 * + 1, the lower column in the low half (of the transposed matrix with
 * .trans). Every lane of the warp must take part. */
enum kiln_emu_ldmatrix_shape { KILN_EMU_LDMATRIX_TRANS = 16 };

/* void kiln_emu_cp_async(void *shared_dst, const void *global_src,
 *                        int32_t bytes): PTX's cp.async.{ca,cg}.shared.global
 * of 4, 8 or 16 bytes (both addresses aligned to it) for the calling
 * thread: the copy is only recorded, in the thread's current group.
 * void kiln_emu_cp_async_commit(void): cp.async.commit_group, closing it.
 * void kiln_emu_cp_async_wait(int32_t n): cp.async.wait_group n, which
 * does the copies of the thread's committed groups but the newest n.
 * The copies land as late as PTX allows, so that reading shared memory
 * before the wait (and the barrier) that orders the copy reads what was
 * there before. Copies never waited for are dropped when the thread
 * exits. */

/* void kiln_emu_access(const void *address, int64_t bytes, int32_t flags):
 * called before each load and store of the kernels (not of their
 * thread-private stack memory). The driver checks that the address has the
 * alignment the compiled code assumes (a GPU faults on a misaligned access
 * where a CPU does not), and finds races between threads of a launch
 * (FAKE_CUDA_RACECHECK=1). flags: KILN_EMU_ACCESS_WRITE for a store;
 * KILN_EMU_ACCESS_SHARED for the block's shared memory (address space 3:
 * one per block on a GPU; blocks run one after another here, so they take
 * turns with the same bytes); the log2 of the assumed alignment in bytes
 * shifted left by KILN_EMU_ACCESS_ALIGN_SHIFT. */
enum kiln_emu_access_flags {
  KILN_EMU_ACCESS_WRITE = 1,
  KILN_EMU_ACCESS_SHARED = 2,
  KILN_EMU_ACCESS_ALIGN_SHIFT = 8
};

#define KILN_EMU_SPECIAL_REGISTER_FN "kiln_emu_special_register"
#define KILN_EMU_SHFL_FN "kiln_emu_shfl"
#define KILN_EMU_BARRIER_FN "kiln_emu_barrier"
#define KILN_EMU_ACCESS_FN "kiln_emu_access"
#define KILN_EMU_MMA_FN "kiln_emu_mma"
#define KILN_EMU_LDMATRIX_FN "kiln_emu_ldmatrix"
#define KILN_EMU_CP_ASYNC_FN "kiln_emu_cp_async"
#define KILN_EMU_CP_ASYNC_COMMIT_FN "kiln_emu_cp_async_commit"
#define KILN_EMU_CP_ASYNC_WAIT_FN "kiln_emu_cp_async_wait"

#ifdef __cplusplus
}
#endif

#endif /* KILN_GPU_EMULATION_H */
