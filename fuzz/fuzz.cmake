# libFuzzer harnesses (clang, -DPYPEEK_FUZZ=ON; the libraries are instrumented by the root
# CMakeLists.txt). Run them with fuzz/run-fuzz or `make fuzz`.
set(PK_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined)
# tests/support_* build against a stand-in for Criterion's assertions.
add_library(pk_fuzz_support STATIC tests/support_image.c tests/support_heap.c fuzz/fuzz_patch.c
                                   fuzz/fuzz_record_heap.c)
target_include_directories(pk_fuzz_support BEFORE PUBLIC ${CMAKE_SOURCE_DIR}/fuzz/shim)
target_compile_options(pk_fuzz_support PRIVATE -g)
target_link_libraries(pk_fuzz_support PUBLIC pk_cpython)

add_executable(fuzz_walkers fuzz/fuzz_walkers.c)
# The harness reads its own DWARF for the layout of the mini CPython structs.
target_compile_options(fuzz_walkers PRIVATE -g ${PK_FUZZ_FLAGS})
target_link_options(fuzz_walkers PRIVATE ${PK_FUZZ_FLAGS})
target_link_libraries(fuzz_walkers PRIVATE pk_fuzz_support pk_report)

add_executable(fuzz_graph fuzz/fuzz_graph.c)
target_compile_options(fuzz_graph PRIVATE -g ${PK_FUZZ_FLAGS})
target_link_options(fuzz_graph PRIVATE ${PK_FUZZ_FLAGS})
target_link_libraries(fuzz_graph PRIVATE pk_fuzz_support pk_report)

# Layout records and cache entries (symbols/layout_record.c): text parser, write-back.
add_executable(fuzz_layout_record fuzz/fuzz_layout_record.c)
target_compile_options(fuzz_layout_record PRIVATE -g ${PK_FUZZ_FLAGS})
target_link_options(fuzz_layout_record PRIVATE ${PK_FUZZ_FLAGS})
target_link_libraries(fuzz_layout_record PRIVATE pk_symbols)

if(EXISTS ${CMAKE_SOURCE_DIR}/report/snapshot_read.c AND EXISTS ${CMAKE_SOURCE_DIR}/report/diff.c)
  add_executable(fuzz_snapshot_file fuzz/fuzz_snapshot_file.c)
  target_compile_options(fuzz_snapshot_file PRIVATE -g ${PK_FUZZ_FLAGS})
  target_link_options(fuzz_snapshot_file PRIVATE ${PK_FUZZ_FLAGS})
  target_link_libraries(fuzz_snapshot_file PRIVATE pk_report)
endif()

add_executable(fuzz_core_file fuzz/fuzz_core_file.c)
target_compile_options(fuzz_core_file PRIVATE -g ${PK_FUZZ_FLAGS})
target_link_options(fuzz_core_file PRIVATE ${PK_FUZZ_FLAGS})
target_link_libraries(fuzz_core_file PRIVATE pk_attach)
