//===- AsanDefaults.h - ASan options of the sanitizer build's tools -------===//
//
// Included once by each tool's main file. In a -DKILN_ENABLE_SANITIZERS
// build, LLVM's headers see AddressSanitizer and make every BumpPtrAllocator
// instantiated in Kiln's code poison its fresh slabs, while the prebuilt,
// uninstrumented libMLIR allocates from the same slabs (the MLIRContext's
// attribute uniquer) without unpoisoning: its later reads of its own
// attributes are reported as use-after-poison. Ignoring manual poisoning
// (allow_user_poisoning=0) removes that false report; ASan's own
// instrumentation (heap, stack, globals) is unaffected. ASAN_OPTIONS in the
// environment still adds to or overrides this.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_ASANDEFAULTS_H
#define KILN_TOOLS_ASANDEFAULTS_H

#if defined(__SANITIZE_ADDRESS__)
extern "C" const char *__asan_default_options() { return "allow_user_poisoning=0"; }
#endif

#endif // KILN_TOOLS_ASANDEFAULTS_H
