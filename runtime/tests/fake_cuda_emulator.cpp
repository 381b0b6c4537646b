//===- fake_cuda_emulator.cpp - Emulated kernels for the fake driver ------===//
//
// A launch runs block after block. In a block, a kernel whose threads never
// synchronize (the compiler says so in kiln_emu_info_<kernel>) runs thread
// after thread on the caller's stack. The others run each thread as a
// coroutine with a stack of its own (switched in a few instructions, x86-64
// only: ucontext's swapcontext makes a system call per switch, 20 times
// slower), until it shuffles, waits at a barrier or returns. Once every
// live lane of a warp waits at a shuffle, the shuffle is done as PTX's
// shfl.sync defines it and the lanes go on (mma.sync and ldmatrix alike,
// as the PTX ISA defines them); once every live thread of the
// block waits at the barrier, they all go on. Anything else (lanes of a warp
// at different points, a shuffle reading a lane that is not taking part) is
// reported, since on a GPU it would hang or read undefined values.
//
// With FAKE_CUDA_RACECHECK=1 the kernels' loads and stores (reported by
// kiln_emu_access) are checked for races: two threads of a launch touching
// the same byte, one of them writing, with no barrier between them (threads
// of different blocks never have one; their shared memory is their own, so
// shared bytes race within a block only). Running threads one after another
// hides such a race; a GPU gives whichever value wins. The last writer and
// the last reader of each byte are kept, for the launch. Every access is
// also checked against the alignment the compiled code assumes for it
// (always: a GPU faults on a misaligned vector access, a CPU does not).
//
//===----------------------------------------------------------------------===//

#include "fake_cuda_emulator.h"
#include "half_bits.h"

#include "kiln/kiln_gpu_emulation.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <map>
#include <optional>
#include <unordered_map>
#include <unistd.h>

#define EMULATOR_EXPORT extern "C" __attribute__((visibility("default")))

namespace fake_cuda {
namespace {

constexpr int kWarpSize = 32;
constexpr size_t kStackBytes = 256 << 10;

struct Module {
  void *library = nullptr;
  std::map<std::string, EmulatedKernel> kernels;
};

#if defined(__x86_64__)
// kiln_fake_fiber_switch(save, resume): saves the callee-saved registers,
// the SSE and x87 control words and the stack pointer (into *save), and
// continues where the stack `resume` was saved.
extern "C" void kiln_fake_fiber_switch(void **save, void *resume);
asm(R"(
  .text
  .p2align 4
  .hidden kiln_fake_fiber_switch
  .globl kiln_fake_fiber_switch
  .type kiln_fake_fiber_switch,@function
kiln_fake_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size kiln_fake_fiber_switch, .-kiln_fake_fiber_switch
)");
constexpr bool kHasFibers = true;
#else
extern "C" void kiln_fake_fiber_switch(void **, void *) { std::abort(); }
constexpr bool kHasFibers = false;
#endif

enum class LaneState { Fresh, Ready, AtShuffle, AtMma, AtLdmatrix, AtBarrier, Done };

/// Whether a lane in `state` waits at a warp-wide operation.
bool atWarpCollective(LaneState state) {
  return state == LaneState::AtShuffle || state == LaneState::AtMma ||
         state == LaneState::AtLdmatrix;
}

struct Lane {
  LaneState state = LaneState::Fresh;
  void *sp = nullptr; // where the lane's registers were saved
  char *stack = nullptr;
  int32_t tid[3] = {0, 0, 0};
  int32_t laneId = 0;
  int64_t linear = 0; // in the block
  // The shuffle this lane waits at, and then its result.
  int32_t kind = 0, mask = 0, bits = 0, b = 0, c = 0;
  int64_t result = 0;
  // The matrix product this lane waits at: its fragments (kiln_emu_mma);
  // or the matrix load: the row it names, where its registers go
  // (kiln_emu_ldmatrix).
  uint32_t *fragments = nullptr;
  const void *row = nullptr;
  // cp.async copies recorded and not yet done, each with its group (the
  // count of groups committed before it).
  struct PendingCopy {
    void *dst;
    const void *src;
    int32_t bytes;
    int64_t group;
  };
  std::vector<PendingCopy> copies;
  int64_t committedGroups = 0;
};

/// A thread's access to a byte, for the race check: its number in the
/// launch (-1: none) and how many barriers its block had passed.
struct Access {
  int64_t thread = -1;
  uint32_t epoch = 0;
};
struct ByteAccesses {
  Access writer, reader;
};

struct Launch {
  const EmulatedKernel *kernel = nullptr;
  void **params = nullptr;
  unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1}, ctaid[3] = {0, 0, 0};
  std::vector<Lane> lanes;
  Lane *current = nullptr;
  void *schedulerSp = nullptr;
  std::vector<char *> freeStacks;
  std::string error;
  // The race check: on or not, the current block's first thread and
  // barrier count, and what each byte saw.
  bool raceCheck = false;
  int64_t blockBase = 0, threadsPerBlock = 1;
  uint32_t epoch = 0;
  std::unordered_map<uintptr_t, ByteAccesses> bytes;

  ~Launch() {
    for (Lane &lane : lanes)
      std::free(lane.stack);
    for (char *stack : freeStacks)
      std::free(stack);
  }
};

thread_local Launch *active = nullptr;

/// The size of the ELF shared library at `bytes`: its section headers come
/// last in what a linker writes.
size_t elfSize(const unsigned char *bytes) {
  // The ELF magic first: the header's 64 bytes are read only if it is one.
  if (std::memcmp(bytes, ELFMAG, SELFMAG) != 0 || bytes[EI_CLASS] != ELFCLASS64)
    return 0;
  Elf64_Ehdr header;
  std::memcpy(&header, bytes, sizeof header);
  size_t sections = header.e_shoff + size_t(header.e_shnum) * header.e_shentsize;
  size_t segments = header.e_phoff + size_t(header.e_phnum) * header.e_phentsize;
  return sections > segments ? sections : segments;
}

/// The kernels library leaves the emulator's functions and __nv_* math
/// undefined; this library has them, but was loaded with RTLD_LOCAL by the
/// runtime: make its symbols global so that the kernels' resolve.
bool exportOwnSymbols(std::string &error) {
  Dl_info self;
  if (!dladdr(reinterpret_cast<void *>(&elfSize), &self) || !self.dli_fname) {
    error = "the fake driver cannot find its own file";
    return false;
  }
  if (!dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) {
    error = std::string("the fake driver cannot export its symbols: ") + dlerror();
    return false;
  }
  return true;
}

/// Where a lane starts: runs the kernel, then hands back to the scheduler
/// for good.
[[noreturn]] void laneMain() {
  Launch &launch = *active;
  launch.kernel->entry(launch.params);
  Lane &lane = *launch.current;
  lane.state = LaneState::Done;
  kiln_fake_fiber_switch(&lane.sp, launch.schedulerSp);
  std::abort(); // a finished lane is never resumed
}

/// Suspends the current lane until the scheduler resumes it.
void yieldLane(LaneState waitingAt) {
  Launch &launch = *active;
  Lane &lane = *launch.current;
  lane.state = waitingAt;
  kiln_fake_fiber_switch(&lane.sp, launch.schedulerSp);
}

/// The race check's record of thread `me` (in the launch) reading or
/// writing `bytes` bytes at `start`; sets the launch's error on a race.
void checkRace(Launch &launch, int64_t me, uintptr_t start, int64_t bytes, bool write,
               bool shared) {
  // Another block's use of shared memory bytes was of its own copy.
  auto conflicts = [&](const Access &other) {
    if (other.thread < 0 || other.thread == me)
      return false;
    bool sameBlock = other.thread / launch.threadsPerBlock == me / launch.threadsPerBlock;
    return sameBlock ? other.epoch == launch.epoch : !shared;
  };
  auto describe = [&](int64_t thread) {
    int64_t block = thread / launch.threadsPerBlock;
    return "thread " + std::to_string(thread % launch.threadsPerBlock) + " of block " +
           std::to_string(block);
  };
  for (int64_t i = 0; i < bytes; ++i) {
    ByteAccesses &byte = launch.bytes[start + uintptr_t(i)];
    const Access *other = conflicts(byte.writer) ? &byte.writer
                          : write && conflicts(byte.reader) ? &byte.reader
                                                           : nullptr;
    if (other) {
      char where[32];
      std::snprintf(where, sizeof where, "%p", reinterpret_cast<const void *>(start + i));
      launch.error = "a race: " + describe(me) + (write ? " writes" : " reads") + " byte " +
                     where + ", which " + describe(other->thread) +
                     (other == &byte.writer ? " wrote" : " read") +
                     " in the same launch with no barrier between them";
      return;
    }
    if (write)
      byte = {{me, launch.epoch}, {}};
    else
      byte.reader = {me, launch.epoch};
  }
}

/// Does the shuffle every live lane of warp [first, last) waits at.
std::string resolveShuffle(Launch &launch, size_t first, size_t last) {
  Lane &leader = launch.lanes[first];
  for (size_t i = first; i < last; ++i) {
    Lane &lane = launch.lanes[i];
    if (lane.state != LaneState::AtShuffle)
      continue;
    if (lane.kind != leader.kind || lane.mask != leader.mask || lane.c != leader.c)
      return "lanes of a warp wait at different shuffles";
    if (!(uint32_t(lane.mask) >> lane.laneId & 1))
      return "a lane shuffles with a member mask that leaves it out";
  }
  for (int l = 0; l < kWarpSize; ++l) {
    if (!(uint32_t(leader.mask) >> l & 1))
      continue;
    if (first + l >= last || launch.lanes[first + l].state != LaneState::AtShuffle)
      return "shfl.sync's member mask " + std::to_string(uint32_t(leader.mask)) + " names lane " +
             std::to_string(l) + ", which has exited or does not exist";
  }
  for (size_t i = first; i < last; ++i) {
    Lane &lane = launch.lanes[i];
    if (lane.state != LaneState::AtShuffle)
      continue;
    int32_t laneId = lane.laneId, b = lane.b & 31, clamp = lane.c & 31,
            segmask = (lane.c >> 8) & 31;
    int32_t minLane = laneId & segmask, maxLane = minLane | (clamp & ~segmask);
    int32_t j = laneId;
    bool valid = false;
    switch (lane.kind) {
    case KILN_EMU_SHFL_UP: j = laneId - b; valid = j >= maxLane; break;
    case KILN_EMU_SHFL_DOWN: j = laneId + b; valid = j <= maxLane; break;
    case KILN_EMU_SHFL_BFLY: j = laneId ^ b; valid = j <= maxLane; break;
    default: j = minLane | (b & ~segmask); valid = j <= maxLane; break;
    }
    if (!valid)
      j = laneId;
    int32_t bits = launch.lanes[first + j].bits;
    lane.result = int64_t(uint32_t(bits)) | (int64_t(valid) << 32);
  }
  for (size_t i = first; i < last; ++i)
    if (launch.lanes[i].state == LaneState::AtShuffle)
      launch.lanes[i].state = LaneState::Ready;
  return "";
}

/// One 16-bit value of an mma fragment register as a float.
float mmaElement(int32_t kind, uint32_t reg, int half) {
  uint16_t bits = uint16_t(reg >> (16 * half));
  return kind == KILN_EMU_MMA_BF16 ? half_bits::floatOf(uint32_t(bits) << 16)
                                   : half_bits::halfToFloat(bits);
}

/// Does the m16n8k16 product (kiln_emu_mma) every lane of warp [first,
/// last) waits at: gathers A (16 x 16), B (16 x 8) and C (16 x 8) from the
/// lanes' fragments as the PTX ISA lays them out (lane = 4 * group +
/// index in group), and hands each lane its part of D = A B + C. The
/// products are exact in fp32 and summed in order of k, fp32 after each
/// (the tensor cores' order is not specified, nor bit for bit this).
std::string resolveMma(Launch &launch, size_t first, size_t last) {
  if (last - first != size_t(kWarpSize))
    return "mma.sync in a warp of " + std::to_string(last - first) + " threads";
  int32_t kind = launch.lanes[first].kind;
  float a[16][16], b[16][8], c[16][8];
  for (size_t i = first; i < last; ++i) {
    const Lane &lane = launch.lanes[i];
    if (lane.state != LaneState::AtMma)
      return "mma.sync.aligned with lanes of the warp elsewhere (exited or at another operation)";
    if (lane.kind != kind)
      return "lanes of a warp wait at mma.sync of different types";
    int group = lane.laneId / 4, index = lane.laneId % 4;
    const uint32_t *f = lane.fragments;
    for (int r = 0; r < 4; ++r)
      for (int h = 0; h < 2; ++h)
        a[group + 8 * (r & 1)][2 * index + h + 8 * (r >> 1)] = mmaElement(kind, f[r], h);
    for (int r = 0; r < 2; ++r)
      for (int h = 0; h < 2; ++h)
        b[2 * index + h + 8 * r][group] = mmaElement(kind, f[4 + r], h);
    for (int j = 0; j < 4; ++j)
      c[group + 8 * (j >> 1)][2 * index + (j & 1)] = half_bits::floatOf(f[6 + j]);
  }
  for (size_t i = first; i < last; ++i) {
    Lane &lane = launch.lanes[i];
    int group = lane.laneId / 4, index = lane.laneId % 4;
    for (int j = 0; j < 4; ++j) {
      int row = group + 8 * (j >> 1), column = 2 * index + (j & 1);
      float sum = c[row][column];
      for (int k = 0; k < 16; ++k)
        sum += a[row][k] * b[k][column];
      lane.fragments[6 + j] = half_bits::bitsOf(sum);
    }
    lane.state = LaneState::Ready;
  }
  return "";
}

/// Does the matrix load (kiln_emu_ldmatrix) every lane of warp [first,
/// last) waits at: matrix i's rows are the 16 bytes at the addresses lanes
/// 8i to 8i + 7 name (their reads are those lanes' for the race check);
/// each lane gets row lane / 4, columns 2 * (lane % 4) and + 1 of each
/// (of its transpose with .trans).
std::string resolveLdmatrix(Launch &launch, size_t first, size_t last) {
  if (last - first != size_t(kWarpSize))
    return "ldmatrix in a warp of " + std::to_string(last - first) + " threads";
  int32_t shape = launch.lanes[first].kind;
  int matrices = shape & ~KILN_EMU_LDMATRIX_TRANS;
  bool transpose = shape & KILN_EMU_LDMATRIX_TRANS;
  uint16_t values[4][8][8];
  for (size_t i = first; i < last; ++i) {
    const Lane &lane = launch.lanes[i];
    if (lane.state != LaneState::AtLdmatrix)
      return "ldmatrix.sync.aligned with lanes of the warp elsewhere (exited or at another "
             "operation)";
    if (lane.kind != shape)
      return "lanes of a warp wait at different ldmatrix shapes";
    int matrix = lane.laneId / 8;
    if (matrix >= matrices)
      continue;
    auto address = reinterpret_cast<uintptr_t>(lane.row);
    if (address % 16 != 0) {
      char where[32];
      std::snprintf(where, sizeof where, "%p", lane.row);
      return "ldmatrix: lane " + std::to_string(lane.laneId) + " names row address " + where +
             ", not 16-byte aligned";
    }
    if (launch.raceCheck) {
      checkRace(launch, launch.blockBase + lane.linear, address, 16, /*write=*/false,
                /*shared=*/true);
      if (!launch.error.empty())
        return launch.error;
    }
    std::memcpy(values[matrix][lane.laneId % 8], lane.row, 16);
  }
  for (size_t i = first; i < last; ++i) {
    Lane &lane = launch.lanes[i];
    int row = lane.laneId / 4, column = 2 * (lane.laneId % 4);
    for (int m = 0; m < matrices; ++m) {
      uint16_t low = transpose ? values[m][column][row] : values[m][row][column];
      uint16_t high = transpose ? values[m][column + 1][row] : values[m][row][column + 1];
      lane.fragments[m] = uint32_t(low) | uint32_t(high) << 16;
    }
    lane.state = LaneState::Ready;
  }
  return "";
}

void setThread(Lane &lane, size_t linear, const unsigned block[3]) {
  lane.linear = int64_t(linear);
  lane.tid[0] = int32_t(linear % block[0]);
  lane.tid[1] = int32_t(linear / block[0] % block[1]);
  lane.tid[2] = int32_t(linear / (size_t(block[0]) * block[1]));
  lane.laneId = int32_t(linear % kWarpSize);
}

/// Gives `lane` a stack laid out as kiln_fake_fiber_switch leaves one, so
/// that switching to it "returns" into laneMain with the stack aligned as
/// at a function's entry.
void startLane(Launch &launch, Lane &lane) {
  if (!launch.freeStacks.empty()) {
    lane.stack = launch.freeStacks.back();
    launch.freeStacks.pop_back();
  } else {
    lane.stack = static_cast<char *>(std::malloc(kStackBytes));
  }
  auto top = (reinterpret_cast<uintptr_t>(lane.stack) + kStackBytes) & ~uintptr_t(15);
  auto *sp = reinterpret_cast<uint64_t *>(top);
  *--sp = 0;                                         // laneMain's (absent) caller
  *--sp = reinterpret_cast<uint64_t>(&laneMain);     // where the switch returns
  for (int i = 0; i < 6; ++i)
    *--sp = 0;                                       // rbp rbx r12 r13 r14 r15
  *--sp = uint64_t(0x037F) << 32 | 0x1F80;           // x87 and SSE defaults
  lane.sp = sp;
  lane.state = LaneState::Ready;
}

/// Runs one block of a kernel whose threads synchronize.
std::string runBlockAsCoroutines(Launch &launch) {
  size_t count = size_t(launch.block[0]) * launch.block[1] * launch.block[2];
  launch.lanes.assign(count, Lane());
  for (size_t i = 0; i < count; ++i)
    setThread(launch.lanes[i], i, launch.block);
  for (;;) {
    for (Lane &lane : launch.lanes) {
      if (lane.state == LaneState::Fresh)
        startLane(launch, lane);
      if (lane.state != LaneState::Ready)
        continue;
      launch.current = &lane;
      kiln_fake_fiber_switch(&launch.schedulerSp, lane.sp);
      if (lane.state == LaneState::Done) {
        launch.freeStacks.push_back(lane.stack);
        lane.stack = nullptr;
      }
      if (!launch.error.empty())
        return launch.error;
    }
    size_t done = 0, atBarrier = 0;
    for (const Lane &lane : launch.lanes) {
      done += lane.state == LaneState::Done;
      atBarrier += lane.state == LaneState::AtBarrier;
    }
    if (done == count)
      return "";
    bool resolved = false;
    for (size_t first = 0; first < count; first += kWarpSize) {
      size_t last = std::min(count, first + kWarpSize);
      // The warp-wide operation its lanes wait at, once none runs.
      std::optional<LaneState> collective;
      bool allWaiting = true;
      for (size_t i = first; i < last; ++i) {
        LaneState state = launch.lanes[i].state;
        allWaiting &= atWarpCollective(state) || state == LaneState::Done;
        if (!atWarpCollective(state))
          continue;
        if (collective && *collective != state)
          return "lanes of a warp wait at different warp-wide operations (shuffle, mma.sync, "
                 "ldmatrix)";
        collective = state;
      }
      if (!collective || !allWaiting)
        continue;
      std::string problem = *collective == LaneState::AtMma ? resolveMma(launch, first, last)
                            : *collective == LaneState::AtLdmatrix
                                ? resolveLdmatrix(launch, first, last)
                                : resolveShuffle(launch, first, last);
      if (!problem.empty())
        return problem;
      resolved = true;
    }
    if (resolved)
      continue;
    if (atBarrier + done == count) {
      for (Lane &lane : launch.lanes)
        if (lane.state == LaneState::AtBarrier)
          lane.state = LaneState::Ready;
      ++launch.epoch; // what was touched before is ordered before what comes
      continue;
    }
    return "the block's threads cannot all go on: " + std::to_string(atBarrier) +
           " wait at a barrier, " + std::to_string(count - done - atBarrier) +
           " at warp-wide operations their warps do not all reach, " + std::to_string(done) +
           " have exited";
  }
}

} // namespace

bool isEmulatedImage(const void *image) {
  return image &&
         std::memcmp(image, KILN_GPU_EMULATION_MAGIC, KILN_GPU_EMULATION_MAGIC_SIZE) == 0;
}

void *loadEmulatedModule(const void *image, std::string &error) {
  auto *library = static_cast<const unsigned char *>(image) + KILN_GPU_EMULATION_MAGIC_SIZE;
  size_t size = elfSize(library);
  if (size == 0) {
    error = "the emulated kernels image holds no 64-bit ELF library";
    return nullptr;
  }
  if (!exportOwnSymbols(error))
    return nullptr;
  const char *folder = std::getenv("TMPDIR");
  std::string path = std::string(folder && *folder ? folder : "/tmp") + "/kiln-emulated-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) {
    error = "cannot create a file for the emulated kernels in " + path;
    return nullptr;
  }
  bool written = write(fd, library, size) == ssize_t(size);
  close(fd);
  void *handle = written ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  if (!handle)
    error = written ? std::string("loading the emulated kernels: ") + dlerror()
                    : "cannot write the emulated kernels to " + path;
  unlink(path.c_str());
  if (!handle)
    return nullptr;
  auto *module = new Module;
  module->library = handle;
  return module;
}

void unloadEmulatedModule(void *module) {
  auto *loaded = static_cast<Module *>(module);
  dlclose(loaded->library);
  delete loaded;
}

const EmulatedKernel *findEmulatedKernel(void *module, const char *name) {
  auto *loaded = static_cast<Module *>(module);
  auto known = loaded->kernels.find(name);
  if (known != loaded->kernels.end())
    return &known->second;
  std::string entryName = std::string(KILN_EMU_KERNEL_PREFIX) + name;
  std::string infoName = std::string(KILN_EMU_INFO_PREFIX) + name;
  auto entry = reinterpret_cast<void (*)(void **)>(dlsym(loaded->library, entryName.c_str()));
  auto *info = static_cast<const kiln_emu_kernel_info *>(dlsym(loaded->library, infoName.c_str()));
  if (!entry || !info)
    return nullptr;
  EmulatedKernel &kernel = loaded->kernels[name];
  kernel.name = name;
  kernel.entry = entry;
  kernel.numParams = info->num_params;
  kernel.synchronizes = info->synchronizes != 0;
  return &kernel;
}

std::string runEmulatedKernel(const EmulatedKernel &kernel, const std::vector<int64_t> &words,
                              const unsigned grid[3], const unsigned block[3]) {
  std::vector<int64_t> values = words;
  std::vector<void *> params(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    params[i] = &values[i];
  Launch launch;
  launch.kernel = &kernel;
  launch.params = params.data();
  const char *raceCheck = std::getenv("FAKE_CUDA_RACECHECK");
  launch.raceCheck = raceCheck && *raceCheck && std::strcmp(raceCheck, "0") != 0;
  std::copy(grid, grid + 3, launch.grid);
  std::copy(block, block + 3, launch.block);
  Launch *outer = active;
  active = &launch;
  std::string problem;
  size_t threads = size_t(block[0]) * block[1] * block[2];
  Lane single;
  for (unsigned z = 0; z < grid[2] && problem.empty(); ++z)
    for (unsigned y = 0; y < grid[1] && problem.empty(); ++y)
      for (unsigned x = 0; x < grid[0] && problem.empty(); ++x) {
        launch.ctaid[0] = x, launch.ctaid[1] = y, launch.ctaid[2] = z;
        launch.threadsPerBlock = int64_t(threads);
        launch.blockBase = ((int64_t(z) * grid[1] + y) * grid[0] + x) * int64_t(threads);
        launch.epoch = 0;
        if (kernel.synchronizes) {
          if (!kHasFibers) {
            problem = "the emulator runs synchronizing kernels on x86-64 only";
            continue;
          }
          problem = runBlockAsCoroutines(launch);
          if (!problem.empty())
            problem += " (block " + std::to_string(x) + "," + std::to_string(y) + "," +
                       std::to_string(z) + ")";
          continue;
        }
        launch.current = &single;
        for (size_t i = 0; i < threads && launch.error.empty(); ++i) {
          setThread(single, i, block);
          kernel.entry(launch.params);
        }
        problem = launch.error;
      }
  active = outer;
  return problem.empty() ? "" : "kernel '" + kernel.name + "': " + problem;
}

} // namespace fake_cuda

using namespace fake_cuda;

EMULATOR_EXPORT int32_t kiln_emu_special_register(int32_t which) {
  Launch &launch = *active;
  const Lane &lane = *launch.current;
  switch (which) {
  case KILN_EMU_TID_X: case KILN_EMU_TID_Y: case KILN_EMU_TID_Z:
    return lane.tid[which - KILN_EMU_TID_X];
  case KILN_EMU_NTID_X: case KILN_EMU_NTID_Y: case KILN_EMU_NTID_Z:
    return int32_t(launch.block[which - KILN_EMU_NTID_X]);
  case KILN_EMU_CTAID_X: case KILN_EMU_CTAID_Y: case KILN_EMU_CTAID_Z:
    return int32_t(launch.ctaid[which - KILN_EMU_CTAID_X]);
  case KILN_EMU_NCTAID_X: case KILN_EMU_NCTAID_Y: case KILN_EMU_NCTAID_Z:
    return int32_t(launch.grid[which - KILN_EMU_NCTAID_X]);
  case KILN_EMU_LANEID: return lane.laneId;
  case KILN_EMU_WARPSIZE: return kWarpSize;
  default:
    launch.error = "reads unknown special register " + std::to_string(which);
    return 0;
  }
}

EMULATOR_EXPORT int64_t kiln_emu_shfl(int32_t kind, int32_t mask, int32_t bits, int32_t b,
                                      int32_t c) {
  Launch &launch = *active;
  if (!launch.kernel->synchronizes) {
    launch.error = "shuffles, but its description says its threads do not synchronize";
    return bits;
  }
  Lane &lane = *launch.current;
  lane.kind = kind, lane.mask = mask, lane.bits = bits, lane.b = b, lane.c = c;
  yieldLane(LaneState::AtShuffle);
  return lane.result;
}

EMULATOR_EXPORT void kiln_emu_mma(int32_t kind, uint32_t *fragments) {
  Launch &launch = *active;
  if (!launch.kernel->synchronizes) {
    launch.error = "runs mma.sync, but its description says its threads do not synchronize";
    return;
  }
  if (kind != KILN_EMU_MMA_F16 && kind != KILN_EMU_MMA_BF16) {
    launch.error = "mma.sync of unknown kind " + std::to_string(kind);
    return;
  }
  Lane &lane = *launch.current;
  lane.kind = kind, lane.fragments = fragments;
  yieldLane(LaneState::AtMma);
}

EMULATOR_EXPORT void kiln_emu_ldmatrix(int32_t shape, const void *row, uint32_t *registers) {
  Launch &launch = *active;
  if (!launch.kernel->synchronizes) {
    launch.error = "runs ldmatrix, but its description says its threads do not synchronize";
    return;
  }
  int matrices = shape & ~KILN_EMU_LDMATRIX_TRANS;
  if (matrices != 1 && matrices != 2 && matrices != 4) {
    launch.error = "ldmatrix of unknown shape " + std::to_string(shape);
    return;
  }
  Lane &lane = *launch.current;
  lane.kind = shape, lane.row = row, lane.fragments = registers;
  yieldLane(LaneState::AtLdmatrix);
}

EMULATOR_EXPORT void kiln_emu_cp_async(void *dst, const void *src, int32_t bytes) {
  Launch &launch = *active;
  if (!launch.kernel->synchronizes) {
    launch.error = "runs cp.async, but its description says its threads do not synchronize";
    return;
  }
  if (bytes != 4 && bytes != 8 && bytes != 16) {
    launch.error = "cp.async of " + std::to_string(bytes) + " bytes (PTX has 4, 8 and 16)";
    return;
  }
  auto misaligned = [&](const void *address) {
    return reinterpret_cast<uintptr_t>(address) % uintptr_t(bytes) != 0;
  };
  if (misaligned(dst) || misaligned(src)) {
    char where[64];
    std::snprintf(where, sizeof where, "%p from %p", dst, src);
    launch.error = "cp.async of " + std::to_string(bytes) + " bytes to " + where +
                   ": both must be aligned to its size";
    return;
  }
  Lane &lane = *launch.current;
  lane.copies.push_back({dst, src, bytes, lane.committedGroups});
}

EMULATOR_EXPORT void kiln_emu_cp_async_commit() { ++active->current->committedGroups; }

EMULATOR_EXPORT void kiln_emu_cp_async_wait(int32_t newest) {
  Launch &launch = *active;
  Lane &lane = *launch.current;
  int64_t me = launch.blockBase + lane.linear;
  std::vector<Lane::PendingCopy> later;
  for (const Lane::PendingCopy &copy : lane.copies) {
    if (copy.group >= lane.committedGroups - newest) {
      later.push_back(copy);
      continue;
    }
    if (launch.raceCheck && launch.error.empty()) {
      checkRace(launch, me, reinterpret_cast<uintptr_t>(copy.src), copy.bytes, false, false);
      if (launch.error.empty())
        checkRace(launch, me, reinterpret_cast<uintptr_t>(copy.dst), copy.bytes, true, true);
    }
    std::memcpy(copy.dst, copy.src, size_t(copy.bytes));
  }
  lane.copies = std::move(later);
}

EMULATOR_EXPORT void kiln_emu_access(const void *address, int64_t bytes, int32_t flags) {
  Launch *launch = active;
  if (!launch || !launch->error.empty())
    return;
  bool write = flags & KILN_EMU_ACCESS_WRITE, shared = flags & KILN_EMU_ACCESS_SHARED;
  auto start = reinterpret_cast<uintptr_t>(address);
  uintptr_t alignment = uintptr_t(1) << ((flags >> KILN_EMU_ACCESS_ALIGN_SHIFT) & 63);
  if (start % alignment != 0) {
    char where[32];
    std::snprintf(where, sizeof where, "%p", address);
    int64_t block = launch->blockBase / launch->threadsPerBlock;
    launch->error = "a misaligned access: thread " + std::to_string(launch->current->linear) +
                    " of block " + std::to_string(block) + (write ? " writes " : " reads ") +
                    std::to_string(bytes) + " bytes at " + where +
                    ", which the kernel's code takes to be " +
                    std::to_string(alignment) + "-byte aligned (a GPU faults)";
    return;
  }
  if (!launch->raceCheck)
    return;
  checkRace(*launch, launch->blockBase + launch->current->linear, start, bytes, write, shared);
}

EMULATOR_EXPORT void kiln_emu_barrier() {
  Launch &launch = *active;
  if (!launch.kernel->synchronizes) {
    launch.error = "waits at a barrier, but its description says its threads do not synchronize";
    return;
  }
  yieldLane(LaneState::AtBarrier);
}
