# ctest runtime.find-package: install the runtime component of the build to a
# scratch prefix, then configure, build and run examples/find_package against
# it with find_package(Kiln). Run with cmake -P and:
#   BUILD_DIR EXAMPLE_DIR WORK_DIR MODEL GENERATOR C_COMPILER CXX_COMPILER SANITIZE
cmake_minimum_required(VERSION 3.20)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component runtime --prefix ${prefix})

# Exactly the runtime: headers, libraries, kiln-run, kiln-bench and the CMake package.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
list(SORT installed)
string(REPLACE ";" "\n  " listing "${installed}")
message(STATUS "installed:\n  ${listing}")
foreach(expected include/kiln/kiln.h include/kiln/kiln_abi.h include/kiln/kiln_qgemm_pack.h bin/kiln-run bin/kiln-bench)
  if(NOT EXISTS ${prefix}/${expected})
    message(FATAL_ERROR "${expected} was not installed")
  endif()
endforeach()
foreach(pattern "libkiln_runtime\\.so$" "libkiln_runtime\\.a$" "KilnConfig\\.cmake$"
                "KilnConfigVersion\\.cmake$" "KilnTargets\\.cmake$")
  set(match ${installed})
  list(FILTER match INCLUDE REGEX "${pattern}")
  if(NOT match)
    message(FATAL_ERROR "nothing matching ${pattern} was installed")
  endif()
endforeach()
foreach(file ${installed})
  if(NOT file MATCHES "^(include/kiln/kiln(_abi|_qgemm_pack|_bf16_pack)?\\.h|bin/kiln-(run|bench)|lib[^/]*/(libkiln_runtime\\.(so(\\.[0-9.]+)?|a)|cmake/Kiln/.*))$")
    message(FATAL_ERROR "unexpected file installed: ${file}")
  endif()
endforeach()

# The installed kiln-run finds the installed library ($ORIGIN rpath).
run(${prefix}/bin/kiln-run ${MODEL} --random-inputs)
if(NOT LAST_OUTPUT MATCHES "output y: float32 \\[1,4\\]")
  message(FATAL_ERROR "installed kiln-run printed:\n${LAST_OUTPUT}")
endif()
# So does kiln-bench.
run(${prefix}/bin/kiln-bench ${MODEL} --runs 2 --warmup 1)
if(NOT LAST_OUTPUT MATCHES "latency .*\\(2 runs\\).*output y: float32 \\[1,4\\]")
  message(FATAL_ERROR "installed kiln-bench printed:\n${LAST_OUTPUT}")
endif()

set(flags)
if(SANITIZE)
  set(flags "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
run(${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${C_COMPILER}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release ${flags})
message(STATUS "${LAST_OUTPUT}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)

foreach(app app_shared app_static)
  run(${WORK_DIR}/build/${app} ${MODEL})
  message(STATUS "${app}:\n${LAST_OUTPUT}")
  # ones [2,4] + ones [4] = 16 twos; row sums of ones: 2 x 4.
  if(NOT LAST_OUTPUT MATCHES "y: sum 16\ns: sum 8\nkiln runtime 0\\.1\\.0: ok")
    message(FATAL_ERROR "${app} printed:\n${LAST_OUTPUT}")
  endif()
endforeach()
