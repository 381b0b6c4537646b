//===- RunLog.cpp - A GPU run's device work, recorded then issued ---------===//

#include "RunLog.h"

#include <cstring>

namespace kiln::gpu {

static_assert(sizeof(kiln_gemm_desc) % sizeof(int64_t) == 0,
              "kiln_gemm_desc is logged as 64-bit words");
constexpr size_t kGemmWords = sizeof(kiln_gemm_desc) / sizeof(int64_t);

bool LoggedCall::sameWorkAs(const LoggedCall &o) const {
  return kind == o.kind && kernel == o.kernel && function == o.function &&
         std::memcmp(grid, o.grid, sizeof grid) == 0 &&
         std::memcmp(block, o.block, sizeof block) == 0 && sharedBytes == o.sharedBytes &&
         firstWord == o.firstWord && numWords == o.numWords && device == o.device &&
         bytes == o.bytes && staging == o.staging && message == o.message;
}

void RunLog::clear() {
  calls.clear();
  words.clear();
  copies = 0;
  checks = 0;
}

void RunLog::addLaunch(const char *kernel, cuda::CUfunction function, const int64_t grid[3],
                       const int64_t block[3], int64_t sharedBytes, const int64_t *params,
                       int64_t numParams) {
  LoggedCall call;
  call.kernel = kernel;
  call.function = function;
  std::memcpy(call.grid, grid, sizeof call.grid);
  std::memcpy(call.block, block, sizeof call.block);
  call.sharedBytes = sharedBytes;
  call.firstWord = words.size();
  call.numWords = size_t(numParams);
  words.insert(words.end(), params, params + numParams);
  calls.push_back(call);
}

void RunLog::addCopyIn(cuda::CUdeviceptr device, size_t bytes) {
  LoggedCall call;
  call.kind = LoggedCall::Kind::CopyIn;
  call.device = device;
  call.bytes = bytes;
  call.staging = copies++;
  calls.push_back(call);
}

void RunLog::addCopyOut(void *hostDestination, cuda::CUdeviceptr device, size_t bytes) {
  LoggedCall call;
  call.kind = LoggedCall::Kind::CopyOut;
  call.device = device;
  call.bytes = bytes;
  call.staging = copies++;
  call.hostDestination = hostDestination;
  calls.push_back(call);
}

void RunLog::addGemm(const kiln_gemm_desc &desc) {
  LoggedCall call;
  call.kind = LoggedCall::Kind::Gemm;
  call.firstWord = words.size();
  call.numWords = kGemmWords;
  words.resize(words.size() + kGemmWords);
  std::memcpy(&words[call.firstWord], &desc, sizeof desc);
  calls.push_back(call);
}

void RunLog::addCheck(cuda::CUdeviceptr failed, const char *message) {
  LoggedCall call;
  call.kind = LoggedCall::Kind::Check;
  call.device = failed;
  call.bytes = 1;
  call.staging = checks++;
  call.message = message;
  calls.push_back(call);
}

kiln_gemm_desc RunLog::gemmOf(const LoggedCall &call) const {
  kiln_gemm_desc desc;
  std::memcpy(&desc, &words[call.firstWord], sizeof desc);
  return desc;
}

bool RunLog::sameWorkAs(const RunLog &other) const {
  if (calls.size() != other.calls.size() || words != other.words)
    return false;
  for (size_t i = 0; i < calls.size(); ++i)
    if (!calls[i].sameWorkAs(other.calls[i]))
      return false;
  return true;
}

} // namespace kiln::gpu
