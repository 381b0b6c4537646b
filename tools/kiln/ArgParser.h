//===- ArgParser.h - The tiny option parser kiln's commands share -*- C++ -*-===//
//
// kiln parses its own options rather than through llvm::cl so that `--help`
// lists only Kiln's flags, not every option registered in libLLVM.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_ARGPARSER_H
#define KILN_TOOLS_KILN_ARGPARSER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>
#include <string>

namespace kilncli {

class ArgParser {
public:
  ArgParser(llvm::StringRef command, llvm::ArrayRef<llvm::StringRef> args)
      : command(command), args(args) {}

  bool done() const { return index >= args.size(); }
  llvm::StringRef current() const { return args[index]; }
  void next() { ++index; }

  /// Matches `--name=value` or `--name value` (and `-Xvalue` for one-letter
  /// short names such as -o); advances past what it consumed.
  std::optional<llvm::StringRef> value(llvm::StringRef name) {
    llvm::StringRef arg = args[index];
    if (!arg.consume_front(name))
      return std::nullopt;
    if (arg.consume_front("=") || (!arg.empty() && name.size() == 2)) {
      ++index;
      return arg;
    }
    if (!arg.empty())
      return std::nullopt; // a longer flag that only shares the prefix
    if (index + 1 >= args.size()) {
      error("option '" + name.str() + "' needs a value");
      ++index;
      return llvm::StringRef();
    }
    index += 2;
    return args[index - 1];
  }

  /// Matches a flag without value; advances past it.
  bool flag(llvm::StringRef name) {
    if (args[index] != name)
      return false;
    ++index;
    return true;
  }

  void error(const std::string &message) {
    if (problem.empty())
      problem = message;
  }
  bool failed() const { return !problem.empty(); }
  /// Prints the first problem as `kiln <command>: error: ...`.
  void report() const {
    llvm::errs() << "kiln " << command << ": error: " << problem << "\n";
  }

private:
  llvm::StringRef command;
  llvm::ArrayRef<llvm::StringRef> args;
  size_t index = 0;
  std::string problem;
};

} // namespace kilncli

#endif // KILN_TOOLS_KILN_ARGPARSER_H
