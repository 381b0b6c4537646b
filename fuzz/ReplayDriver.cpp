//===- ReplayDriver.cpp - The fuzz targets without libFuzzer --------------===//
//
// Links a fuzz target's LLVMFuzzerTestOneInput into an ordinary program, so
// that the normal build (gcc, no sanitizers, what CI builds) runs the same
// target code: every file of the seed directories, then `-runs=N` mutations
// of them (bit flips, interesting bytes, inserted, erased, duplicated and
// spliced chunks), from a fixed `-seed`. Not coverage-guided: it is the
// fuzz targets' smoke test in CI (ctest fuzz-replay), where a crash, an
// abort or a hang (ctest's timeout) fails. Real fuzzing is the libFuzzer
// build (-DKILN_FUZZ=ON, docs/fuzzing.md).
//
//   kiln-fuzz-import-replay [-runs=N] [-seed=S] <seed dir or file>...
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// The load target poisons the memory outside its input for ASan; without
// ASan these do nothing (under ASan its own, strong, definitions win).
extern "C" __attribute__((weak)) void __asan_poison_memory_region(void const volatile *,
                                                                  size_t) {}
extern "C" __attribute__((weak)) void __asan_unpoison_memory_region(void const volatile *,
                                                                    size_t) {}

namespace {

using Bytes = std::vector<uint8_t>;

bool readFile(const std::string &path, Bytes &out) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return false;
  out.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

/// The files of `path` (a file, or a directory's regular files, sorted).
void collect(const std::string &path, std::vector<Bytes> &seeds) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "fuzz replay: cannot read '%s'\n", path.c_str());
    std::exit(2);
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    DIR *dir = opendir(path.c_str());
    while (dirent *entry = dir ? readdir(dir) : nullptr)
      if (entry->d_name[0] != '.')
        files.push_back(path + "/" + entry->d_name);
    if (dir)
      closedir(dir);
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const std::string &file : files) {
    Bytes bytes;
    struct stat fst;
    if (stat(file.c_str(), &fst) == 0 && S_ISREG(fst.st_mode) && readFile(file, bytes))
      seeds.push_back(std::move(bytes));
  }
}

/// One to eight random edits of `input`, another seed for splices.
Bytes mutate(Bytes input, const Bytes &other, std::mt19937_64 &rng) {
  static const uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x08};
  auto below = [&](size_t n) { return n ? size_t(rng() % n) : size_t(0); };
  for (int edits = 1 + int(below(8)); edits > 0; --edits) {
    switch (below(6)) {
    case 0: // flip a bit
      if (!input.empty())
        input[below(input.size())] ^= uint8_t(1u << below(8));
      break;
    case 1: // an interesting byte
      if (!input.empty())
        input[below(input.size())] = interesting[below(sizeof interesting)];
      break;
    case 2: // insert a random byte
      input.insert(input.begin() + below(input.size() + 1), uint8_t(rng()));
      break;
    case 3: { // erase a chunk
      if (input.empty())
        break;
      size_t at = below(input.size()), n = 1 + below(std::min<size_t>(16, input.size() - at));
      input.erase(input.begin() + at, input.begin() + at + n);
      break;
    }
    case 4: { // duplicate a chunk
      if (input.empty())
        break;
      size_t at = below(input.size()), n = 1 + below(std::min<size_t>(32, input.size() - at));
      Bytes chunk(input.begin() + at, input.begin() + at + n);
      input.insert(input.begin() + below(input.size() + 1), chunk.begin(), chunk.end());
      break;
    }
    default: { // splice in a chunk of another seed
      if (other.empty())
        break;
      size_t at = below(other.size()), n = 1 + below(std::min<size_t>(64, other.size() - at));
      size_t to = below(input.size() + 1);
      input.insert(input.begin() + to, other.begin() + at, other.begin() + at + n);
      break;
    }
    }
  }
  return input;
}

} // namespace

int main(int argc, char **argv) {
  long runs = 1000;
  unsigned long long seed = 1;
  std::vector<Bytes> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0)
      runs = std::strtol(argv[i] + 6, nullptr, 10);
    else if (std::strncmp(argv[i], "-seed=", 6) == 0)
      seed = std::strtoull(argv[i] + 6, nullptr, 10);
    else
      collect(argv[i], seeds);
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "fuzz replay: no seed inputs; usage: %s [-runs=N] [-seed=S] <dir>...\n",
                 argv[0]);
    return 2;
  }
  for (const Bytes &input : seeds)
    LLVMFuzzerTestOneInput(input.data(), input.size());
  std::mt19937_64 rng(seed);
  for (long run = 0; run < runs; ++run) {
    Bytes input = mutate(seeds[rng() % seeds.size()], seeds[rng() % seeds.size()], rng);
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("fuzz replay: %zu seeds and %ld mutations (seed %llu) ran without a crash\n",
              seeds.size(), runs, seed);
  return 0;
}
