/* The layout: every struct size and member offset pypeek reads, by name, plus the per-version
   constants that DWARF cannot carry (flag bits, pre-header rules). The only place offsets live. */
#ifndef PK_LAYOUT_H
#define PK_LAYOUT_H

#include <assert.h>
#include <stdint.h>

#include "symbols/dwarf_types.h"

/* X(field name, DWARF type names, member path or NULL for sizeof). */
#define PK_LAYOUT_FIELDS(X)                                                                        \
    X(runtime_size, "_PyRuntimeState|pyruntimestate", NULL)                                        \
    X(runtime_interpreters_head, "_PyRuntimeState|pyruntimestate", "interpreters.head")            \
    X(runtime_interpreters_main, "_PyRuntimeState|pyruntimestate", "interpreters.main")            \
    X(interp_size, "PyInterpreterState|_is", NULL)                                                 \
    X(interp_next, "PyInterpreterState|_is", "next")                                               \
    X(interp_id, "PyInterpreterState|_is", "id")                                                   \
    X(interp_gc, "PyInterpreterState|_is", "gc")                                                   \
    X(runtime_gc, "_PyRuntimeState|pyruntimestate", "gc") /* 3.8: one GC per process */            \
    X(interp_tstate_head, "PyInterpreterState|_is", "tstate_head")                                 \
    X(interp_threads_head, "PyInterpreterState|_is", "threads.head")                               \
    X(interp_modules, "PyInterpreterState|_is", "modules")                                         \
    X(interp_imports_modules, "PyInterpreterState|_is", "imports.modules")                         \
    X(tstate_next, "PyThreadState|_ts", "next")                                                    \
    X(tstate_native_thread_id, "PyThreadState|_ts", "native_thread_id")                            \
    X(gc_size, "_gc_runtime_state", NULL)                                                          \
    X(gc_enabled, "_gc_runtime_state", "enabled")                                                  \
    X(gc_debug, "_gc_runtime_state", "debug")                                                      \
    X(gc_generations, "_gc_runtime_state", "generations")                                          \
    X(gc_generation0, "_gc_runtime_state", "generation0")                                          \
    X(gc_young, "_gc_runtime_state", "young")                                                      \
    X(gc_old, "_gc_runtime_state", "old")                                                          \
    X(gc_visited_space, "_gc_runtime_state", "visited_space")                                      \
    X(gc_permanent_generation, "_gc_runtime_state", "permanent_generation")                        \
    X(gc_generation_stats, "_gc_runtime_state", "generation_stats")                                \
    X(gc_collecting, "_gc_runtime_state", "collecting")                                            \
    X(gc_garbage, "_gc_runtime_state", "garbage")                                                  \
    X(gen_size, "gc_generation", NULL)                                                             \
    X(gen_head, "gc_generation", "head")                                                           \
    X(gen_threshold, "gc_generation", "threshold")                                                 \
    X(gen_count, "gc_generation", "count")                                                         \
    X(genstats_size, "gc_generation_stats", NULL)                                                  \
    X(genstats_collections, "gc_generation_stats", "collections")                                  \
    X(genstats_collected, "gc_generation_stats", "collected")                                      \
    X(genstats_uncollectable, "gc_generation_stats", "uncollectable")                              \
    /* 3.15: generation_stats points to ring buffers; get_stats() reads each buffer's current */   \
    X(gcstats_young_items, "gc_stats", "young.items")                                              \
    X(gcstats_young_index, "gc_stats", "young.index")                                              \
    X(gcstats_old, "gc_stats", "old")                                                              \
    X(oldstats_size, "gc_old_stats_buffer", NULL)                                                  \
    X(oldstats_items, "gc_old_stats_buffer", "items")                                              \
    X(oldstats_index, "gc_old_stats_buffer", "index")                                              \
    X(gchead_size, "PyGC_Head|_gc_head", NULL)                                                     \
    X(gchead_next, "PyGC_Head|_gc_head", "_gc_next")                                               \
    X(gchead_prev, "PyGC_Head|_gc_head", "_gc_prev")                                               \
    X(object_size, "PyObject|_object", NULL)                                                       \
    X(object_refcnt, "PyObject|_object", "ob_refcnt")                                              \
    X(object_type, "PyObject|_object", "ob_type")                                                  \
    X(varobject_size, "PyVarObject", "ob_size")                                                    \
    X(type_name, "PyTypeObject|_typeobject", "tp_name")                                            \
    X(type_basicsize, "PyTypeObject|_typeobject", "tp_basicsize")                                  \
    X(type_itemsize, "PyTypeObject|_typeobject", "tp_itemsize")                                    \
    X(type_flags, "PyTypeObject|_typeobject", "tp_flags")                                          \
    X(type_base, "PyTypeObject|_typeobject", "tp_base")                                            \
    X(type_dict, "PyTypeObject|_typeobject", "tp_dict")                                            \
    X(type_struct_size, "PyTypeObject|_typeobject", NULL)                                          \
    X(heaptype_struct_size, "PyHeapTypeObject|_heaptypeobject", NULL)                              \
    X(heaptype_cached_keys, "PyHeapTypeObject|_heaptypeobject", "ht_cached_keys")                  \
    X(heaptype_name, "PyHeapTypeObject|_heaptypeobject", "ht_name")                                \
    X(heaptype_qualname, "PyHeapTypeObject|_heaptypeobject", "ht_qualname")                        \
    X(list_item, "PyListObject", "ob_item")                                                        \
    X(list_allocated, "PyListObject", "allocated")                                                 \
    X(tuple_item, "PyTupleObject", "ob_item")                                                      \
    X(dict_used, "PyDictObject", "ma_used")                                                        \
    X(dict_keys, "PyDictObject", "ma_keys")                                                        \
    X(dict_values, "PyDictObject", "ma_values")                                                    \
    X(dictkeys_refcnt, "PyDictKeysObject|_dictkeysobject", "dk_refcnt")                            \
    X(dictkeys_size, "PyDictKeysObject|_dictkeysobject", "dk_size")                                \
    X(dictkeys_log2_size, "PyDictKeysObject|_dictkeysobject", "dk_log2_size")                      \
    X(dictkeys_log2_index_bytes, "PyDictKeysObject|_dictkeysobject", "dk_log2_index_bytes")        \
    X(dictkeys_kind, "PyDictKeysObject|_dictkeysobject", "dk_kind")                                \
    X(dictkeys_usable, "PyDictKeysObject|_dictkeysobject", "dk_usable")                            \
    X(dictkeys_nentries, "PyDictKeysObject|_dictkeysobject", "dk_nentries")                        \
    X(dictkeys_indices, "PyDictKeysObject|_dictkeysobject", "dk_indices")                          \
    X(dictkeys_struct_size, "PyDictKeysObject|_dictkeysobject", NULL)                              \
    X(dictentry_size, "PyDictKeyEntry", NULL)                                                      \
    X(dictentry_key, "PyDictKeyEntry", "me_key")                                                   \
    X(dictentry_value, "PyDictKeyEntry", "me_value")                                               \
    X(dictuentry_size, "PyDictUnicodeEntry", NULL)                                                 \
    X(dictuentry_key, "PyDictUnicodeEntry", "me_key")                                              \
    X(dictuentry_value, "PyDictUnicodeEntry", "me_value")                                          \
    X(set_mask, "PySetObject", "mask")                                                             \
    X(set_table, "PySetObject", "table")                                                           \
    X(set_smalltable, "PySetObject", "smalltable")                                                 \
    X(setentry_size, "setentry", NULL)                                                             \
    X(dictvalues_values, "PyDictValues|_dictvalues", "values")                                     \
    X(interp_obmalloc, "PyInterpreterState|_is", "obmalloc")                                       \
    X(obmalloc_arenas, "_obmalloc_state", "mgmt.arenas")                                           \
    X(obmalloc_maxarenas, "_obmalloc_state", "mgmt.maxarenas")                                     \
    X(obmalloc_narenas, "_obmalloc_state", "mgmt.narenas_currently_allocated")                     \
    X(obmalloc_raw_blocks, "_obmalloc_state", "mgmt.raw_allocated_blocks")                         \
    X(arena_size, "arena_object", NULL)                                                            \
    X(arena_address, "arena_object", "address")                                                    \
    X(arena_pool_address, "arena_object", "pool_address")                                          \
    X(arena_nfreepools, "arena_object", "nfreepools")                                              \
    X(arena_ntotalpools, "arena_object", "ntotalpools")                                            \
    X(pool_count, "pool_header", "ref.count")                                                      \
    X(pool_szidx, "pool_header", "szidx")                                                          \
    X(ascii_size, "PyASCIIObject", NULL)                                                           \
    X(ascii_length, "PyASCIIObject", "length")                                                     \
    X(ascii_state_kind, "PyASCIIObject", "state.kind")                                             \
    X(ascii_state_compact, "PyASCIIObject", "state.compact")                                       \
    X(ascii_state_ascii, "PyASCIIObject", "state.ascii")                                           \
    X(compact_unicode_size, "PyCompactUnicodeObject", NULL)                                        \
    /* fd owners (optional: _io and _socket may be missing; see cpython/fd_owners.c) */            \
    X(bytes_sval, "PyBytesObject", "ob_sval")                                                      \
    X(fileio_size, "fileio", NULL)                                                                 \
    X(fileio_fd, "fileio", "fd")                                                                   \
    X(fileio_created, "fileio", "created")                                                         \
    X(fileio_readable, "fileio", "readable")                                                       \
    X(fileio_writable, "fileio", "writable")                                                       \
    X(fileio_appending, "fileio", "appending")                                                     \
    X(fileio_closefd, "fileio", "closefd")                                                         \
    X(fileio_dict, "fileio", "dict")                                                               \
    X(buffered_size, "buffered", NULL)                                                             \
    X(buffered_raw, "buffered", "raw")                                                             \
    X(textio_size, "textio", NULL)                                                                 \
    X(textio_buffer, "textio", "buffer")                                                           \
    X(sock_size, "PySocketSockObject", NULL)                                                       \
    X(sock_fd, "PySocketSockObject", "sock_fd")                                                    \
    X(sock_family, "PySocketSockObject", "sock_family")                                            \
    X(sock_type, "PySocketSockObject", "sock_type")                                                \
    X(sock_proto, "PySocketSockObject", "sock_proto")                                              \
    X(unicode_data, "PyUnicodeObject", "data")                                                     \
    /* object graph (cpython/referents.c): referents of the core types; all optional */            \
    X(type_members, "PyTypeObject|_typeobject", "tp_members")                                      \
    X(type_dictoffset, "PyTypeObject|_typeobject", "tp_dictoffset")                                \
    X(type_bases, "PyTypeObject|_typeobject", "tp_bases")                                          \
    X(type_mro, "PyTypeObject|_typeobject", "tp_mro")                                              \
    X(heaptype_module, "PyHeapTypeObject|_heaptypeobject", "ht_module")                            \
    X(memberdef_size, "PyMemberDef", NULL)                                                         \
    X(memberdef_name, "PyMemberDef", "name")                                                       \
    X(memberdef_type, "PyMemberDef", "type")                                                       \
    X(memberdef_offset, "PyMemberDef", "offset")                                                   \
    X(set_used, "PySetObject", "used")                                                             \
    X(cell_ref, "PyCellObject", "ob_ref")                                                          \
    X(module_dict, "PyModuleObject", "md_dict")                                                    \
    X(method_func, "PyMethodObject", "im_func")                                                    \
    X(method_self, "PyMethodObject", "im_self")                                                    \
    X(func_code, "PyFunctionObject", "func_code")                                                  \
    X(func_globals, "PyFunctionObject", "func_globals")                                            \
    X(func_builtins, "PyFunctionObject", "func_builtins")                                          \
    X(func_defaults, "PyFunctionObject", "func_defaults")                                          \
    X(func_kwdefaults, "PyFunctionObject", "func_kwdefaults")                                      \
    X(func_closure, "PyFunctionObject", "func_closure")                                            \
    X(func_doc, "PyFunctionObject", "func_doc")                                                    \
    X(func_name, "PyFunctionObject", "func_name")                                                  \
    X(func_dict, "PyFunctionObject", "func_dict")                                                  \
    X(func_module, "PyFunctionObject", "func_module")                                              \
    X(func_annotations, "PyFunctionObject", "func_annotations")                                    \
    X(func_qualname, "PyFunctionObject", "func_qualname")                                          \
    X(func_typeparams, "PyFunctionObject", "func_typeparams")                                      \
    X(bytearray_alloc, "PyByteArrayObject", "ob_alloc")                                            \
    X(bytearray_bytes_object, "PyByteArrayObject", "ob_bytes_object") /* 3.15+ */                  \
    X(long_lv_tag, "PyLongObject|_longobject", "long_value.lv_tag")                                \
    X(ascii_wstr, "PyASCIIObject", "wstr")                                                         \
    X(compact_utf8_length, "PyCompactUnicodeObject", "utf8_length")                                \
    X(compact_utf8, "PyCompactUnicodeObject", "utf8")                                              \
    X(compact_wstr_length, "PyCompactUnicodeObject", "wstr_length")                                \
    X(dictvalues_capacity, "PyDictValues|_dictvalues", "capacity")                                 \
    X(dictvalues_valid, "PyDictValues|_dictvalues", "valid")                                       \
    /* thread frames (cpython/frames.c): frame locals as graph roots; all optional */              \
    X(tstate_thread_id, "PyThreadState|_ts", "thread_id")                                          \
    X(tstate_frame, "PyThreadState|_ts", "frame")   /* 3.9, 3.10: PyFrameObject* */                \
    X(tstate_cframe, "PyThreadState|_ts", "cframe") /* 3.11, 3.12 */                               \
    X(cframe_current_frame, "_PyCFrame", "current_frame")                                          \
    X(tstate_current_frame, "PyThreadState|_ts", "current_frame") /* 3.13+ */                      \
    X(iframe_code, "_PyInterpreterFrame", "f_code")               /* 3.11, 3.12 */                 \
    X(iframe_executable, "_PyInterpreterFrame", "f_executable")   /* 3.13+ (3.14+: a stackref) */  \
    X(iframe_previous, "_PyInterpreterFrame", "previous")                                          \
    X(iframe_localsplus, "_PyInterpreterFrame", "localsplus")                                      \
    X(iframe_stacktop, "_PyInterpreterFrame", "stacktop")         /* 3.11-3.13 */                  \
    X(iframe_stackpointer, "_PyInterpreterFrame", "stackpointer") /* 3.14+ */                      \
    X(frame_back, "PyFrameObject|_frame", "f_back")                                                \
    X(frame_code, "PyFrameObject|_frame", "f_code") /* 3.9, 3.10 */                                \
    X(frame_localsplus, "PyFrameObject|_frame", "f_localsplus")                                    \
    X(code_name, "PyCodeObject", "co_name")                                                        \
    X(code_qualname, "PyCodeObject", "co_qualname")                                                \
    X(code_nlocalsplus, "PyCodeObject", "co_nlocalsplus")                                          \
    X(code_localsplusnames, "PyCodeObject", "co_localsplusnames")                                  \
    X(code_nlocals, "PyCodeObject", "co_nlocals")                                                  \
    X(code_varnames, "PyCodeObject", "co_varnames")                                                \
    X(code_cellvars, "PyCodeObject", "co_cellvars")                                                \
    X(code_freevars, "PyCodeObject", "co_freevars")                                                \
    /* collections.deque (Modules/_collectionsmodule.c, built into the interpreter) */             \
    X(deque_size, "dequeobject", NULL)                                                             \
    X(deque_leftblock, "dequeobject", "leftblock")                                                 \
    X(deque_rightblock, "dequeobject", "rightblock")                                               \
    X(deque_leftindex, "dequeobject", "leftindex")                                                 \
    X(deque_rightindex, "dequeobject", "rightindex")                                               \
    /* block is only reachable through the deque's pointers (other CUs have unrelated blocks); */  \
    /* BLOCKLEN = data's size / 8; rightlink is its last member, so sizeof(block) ends there */    \
    X(block_data, "dequeobject", "leftblock->data")                                                \
    X(block_rightlink, "dequeobject", "leftblock->rightlink")                                      \
    /* generators, coroutines, async generators: one _PyGenObject_HEAD, so PyGenObject's */        \
    /* offsets serve all three (gen_traverse, _PyFrame_Traverse / frame_traverse) */               \
    X(gen_name, "PyGenObject", "gi_name")                                                          \
    X(gen_qualname, "PyGenObject", "gi_qualname")                                                  \
    X(gen_code, "PyGenObject", "gi_code")     /* 3.9-3.11 */                                       \
    X(gen_frame, "PyGenObject", "gi_frame")   /* 3.9, 3.10: PyFrameObject* */                      \
    X(gen_iframe, "PyGenObject", "gi_iframe") /* 3.11+: the embedded _PyInterpreterFrame */        \
    X(gen_frame_state, "PyGenObject", "gi_frame_state")                                            \
    X(gen_exc_type, "PyGenObject", "gi_exc_state.exc_type")                                        \
    X(gen_exc_value, "PyGenObject", "gi_exc_state.exc_value")                                      \
    X(gen_exc_traceback, "PyGenObject", "gi_exc_state.exc_traceback")                              \
    X(gen_origin_or_finalizer, "PyGenObject", "gi_origin_or_finalizer")                            \
    X(iframe_func, "_PyInterpreterFrame", "f_func")       /* 3.11 */                               \
    X(iframe_funcobj, "_PyInterpreterFrame", "f_funcobj") /* 3.12+ (3.14+: a stackref) */          \
    X(iframe_locals, "_PyInterpreterFrame", "f_locals")                                            \
    X(iframe_frame_obj, "_PyInterpreterFrame", "frame_obj")                                        \
    X(frame_builtins, "PyFrameObject|_frame", "f_builtins")                                        \
    X(frame_globals, "PyFrameObject|_frame", "f_globals")                                          \
    X(frame_locals, "PyFrameObject|_frame", "f_locals")                                            \
    X(frame_trace, "PyFrameObject|_frame", "f_trace")                                              \
    X(frame_valuestack, "PyFrameObject|_frame", "f_valuestack")                                    \
    X(frame_stacktop, "PyFrameObject|_frame", "f_stacktop")     /* 3.9 */                          \
    X(frame_stackdepth, "PyFrameObject|_frame", "f_stackdepth") /* 3.10 */                         \
    X(frame_struct_size, "PyFrameObject|_frame", NULL)                                             \
    X(code_stacksize, "PyCodeObject", "co_stacksize")                                              \
    /* more referents (cpython/referents.c, issue 21): descriptors, C functions, weak   */         \
    /* references, tracebacks, property, classmethod/staticmethod, mappingproxy, method-*/         \
    /* wrapper, exceptions, 3.11+ frame objects; all optional                            */        \
    X(type_traverse, "PyTypeObject|_typeobject", "tp_traverse")                                    \
    X(descr_type, "PyDescrObject", "d_type")                                                       \
    X(cfunc_self, "PyCFunctionObject", "m_self")                                                   \
    X(cfunc_module, "PyCFunctionObject", "m_module")                                               \
    X(cmethod_class, "PyCMethodObject", "mm_class")                                                \
    X(weakref_callback, "PyWeakReference|_PyWeakReference", "wr_callback")                         \
    X(tb_next, "PyTracebackObject|_traceback", "tb_next")                                          \
    X(tb_frame, "PyTracebackObject|_traceback", "tb_frame")                                        \
    X(prop_get, "propertyobject", "prop_get")                                                      \
    X(prop_set, "propertyobject", "prop_set")                                                      \
    X(prop_del, "propertyobject", "prop_del")                                                      \
    X(prop_doc, "propertyobject", "prop_doc")                                                      \
    X(prop_name, "propertyobject", "prop_name") /* 3.10+ */                                        \
    X(cm_callable, "classmethod", "cm_callable")                                                   \
    X(cm_dict, "classmethod", "cm_dict")                                                           \
    X(sm_callable, "staticmethod", "sm_callable")                                                  \
    X(sm_dict, "staticmethod", "sm_dict")                                                          \
    X(mappingproxy_mapping, "mappingproxyobject", "mapping")                                       \
    X(wrapper_descr, "wrapperobject", "descr")                                                     \
    X(wrapper_self, "wrapperobject", "self")                                                       \
    X(exc_size, "PyBaseExceptionObject", NULL)                                                     \
    X(exc_dict, "PyBaseExceptionObject", "dict")                                                   \
    X(exc_args, "PyBaseExceptionObject", "args")                                                   \
    X(exc_notes, "PyBaseExceptionObject", "notes") /* 3.11+ */                                     \
    X(exc_traceback, "PyBaseExceptionObject", "traceback")                                         \
    X(exc_context, "PyBaseExceptionObject", "context")                                             \
    X(exc_cause, "PyBaseExceptionObject", "cause")                                                 \
    X(frame_frame, "PyFrameObject|_frame", "f_frame")               /* 3.11+ */                    \
    X(frame_extra_locals, "PyFrameObject|_frame", "f_extra_locals") /* 3.13+ */                    \
    X(frame_locals_cache, "PyFrameObject|_frame", "f_locals_cache") /* 3.14+ */                    \
    X(frame_overwritten, "PyFrameObject|_frame", "f_overwritten_fast_locals")                      \
    X(iframe_owner, "_PyInterpreterFrame", "owner")                                                \
    /* 3.12+: a static builtin type's dict lives in the interpreter's state for it, at index */    \
    /* tp_subclasses - 1 (3.13+: builtins or, without _Py_TPFLAGS_STATIC_BUILTIN, extensions) */   \
    X(interp_static_builtins, "PyInterpreterState|_is", "types.builtins.initialized")              \
    X(interp_static_builtins_312, "PyInterpreterState|_is", "types.builtins")                      \
    X(interp_static_extensions, "PyInterpreterState|_is", "types.for_extensions.initialized")      \
    X(static_state_size, "managed_static_type_state|static_builtin_state", NULL)                   \
    X(static_state_type, "managed_static_type_state|static_builtin_state", "type")                 \
    X(static_state_dict, "managed_static_type_state|static_builtin_state", "tp_dict")              \
    X(type_subclasses, "PyTypeObject|_typeobject", "tp_subclasses")                                \
    /* C types of the stdlib found by name (cpython/referents.c): _io, namedtuple fields, */       \
    /* SimpleNamespace, defaultdict, OrderedDict                                          */       \
    X(iobase_dict, "iobase", "dict")                                                               \
    X(buffered_dict, "buffered", "dict")                                                           \
    X(tuplegetter_doc, "_tuplegetterobject", "doc")                                                \
    X(namespace_dict, "_PyNamespaceObject", "ns_dict")                                             \
    X(defdict_factory, "defdictobject", "default_factory")                                         \
    X(odict_inst_dict, "_odictobject", "od_inst_dict")                                             \
    X(abc_registry, "_abc_data", "_abc_registry")                                                  \
    X(abc_cache, "_abc_data", "_abc_cache")                                                        \
    X(abc_negative_cache, "_abc_data", "_abc_negative_cache")                                      \
    /* unreachable cycles (cpython/unreachable.c): a type with __del__ (tp_finalize) or a */       \
    /* legacy tp_del; optional */                                                                  \
    X(type_finalize, "PyTypeObject|_typeobject", "tp_finalize")                                    \
    X(type_del, "PyTypeObject|_typeobject", "tp_del")                                              \
    /* thread stacks (cpython/stacks.c): where each frame is and which thread holds the GIL */     \
    X(code_filename, "PyCodeObject", "co_filename")                                                \
    X(code_firstlineno, "PyCodeObject", "co_firstlineno")                                          \
    X(code_lnotab, "PyCodeObject", "co_lnotab")               /* 3.8, 3.9: (addr, line) pairs */   \
    X(code_linetable, "PyCodeObject", "co_linetable")         /* 3.10: PEP 626; 3.11+: PEP 657 */  \
    X(code_code_adaptive, "PyCodeObject", "co_code_adaptive") /* 3.11+: the bytecode */            \
    X(iframe_prev_instr, "_PyInterpreterFrame", "prev_instr") /* 3.11, 3.12 */                     \
    X(iframe_instr_ptr, "_PyInterpreterFrame", "instr_ptr")   /* 3.13+ */                          \
    X(iframe_is_entry, "_PyInterpreterFrame", "is_entry")     /* 3.11: first of its eval call */   \
    X(frame_lasti, "PyFrameObject|_frame", "f_lasti")         /* 3.9, 3.10 */                      \
    X(frame_lineno, "PyFrameObject|_frame", "f_lineno")                                            \
    X(runtime_gil_locked, "_PyRuntimeState|pyruntimestate", "ceval.gil.locked") /* to 3.11 */      \
    X(runtime_gil_last_holder, "_PyRuntimeState|pyruntimestate", "ceval.gil.last_holder")          \
    X(interp_gil, "PyInterpreterState|_is", "ceval.gil") /* 3.12+: the interpreter's GIL */        \
    X(gil_locked, "_gil_runtime_state", "locked")                                                  \
    X(gil_last_holder, "_gil_runtime_state", "last_holder")                                        \
    /* stacks --locals (cpython/value_repr.c): the values of int and float */                      \
    X(long_digit, "PyLongObject|_longobject", "ob_digit")                  /* to 3.11 */           \
    X(long_value_digit, "PyLongObject|_longobject", "long_value.ob_digit") /* 3.12+ */             \
    X(float_fval, "PyFloatObject", "ob_fval")                                                      \
    X(pattern_groupindex, "PatternObject", "groupindex")                                           \
    X(pattern_indexgroup, "PatternObject", "indexgroup")                                           \
    X(pattern_pattern, "PatternObject", "pattern")                                                 \
    X(match_string, "MatchObject", "string")                                                       \
    X(match_regs, "MatchObject", "regs")                                                           \
    X(match_pattern, "MatchObject", "pattern")                                                     \
    X(partial_fn, "partialobject", "fn")                                                           \
    X(partial_args, "partialobject", "args")                                                       \
    X(partial_kw, "partialobject", "kw")                                                           \
    X(partial_dict, "partialobject", "dict")                                                       \
    X(listiter_seq, "listiterobject|_PyListIterObject", "it_seq")                                  \
    X(tupleiter_seq, "tupleiterobject|_PyTupleIterObject", "it_seq")                               \
    X(memoryview_mbuf, "PyMemoryViewObject", "mbuf")                                               \
    X(mbuf_obj, "_PyManagedBufferObject", "master.obj")                                            \
    X(slice_start, "PySliceObject", "start")                                                       \
    X(slice_stop, "PySliceObject", "stop")                                                         \
    X(slice_step, "PySliceObject", "step")                                                         \
    /* functools.lru_cache: the links (key, result) from root.next round to root, then fields */   \
    X(lru_root, "lru_cache_object", "root")                                                        \
    X(lru_root_next, "lru_cache_object", "root.next")                                              \
    X(lru_elem_next, "lru_list_elem", "next")                                                      \
    X(lru_elem_key, "lru_list_elem", "key")                                                        \
    X(lru_elem_result, "lru_list_elem", "result")                                                  \
    X(lru_cache, "lru_cache_object", "cache")                                                      \
    X(lru_func, "lru_cache_object", "func")                                                        \
    X(lru_kwd_mark, "lru_cache_object", "kwd_mark")                                                \
    X(lru_elem_type, "lru_cache_object", "lru_list_elem_type")                                     \
    X(lru_cache_info_type, "lru_cache_object", "cache_info_type")                                  \
    X(lru_dict, "lru_cache_object", "dict")                                                        \
    X(dictview_dict, "_PyDictViewObject", "dv_dict")                                               \
    X(dictiter_dict, "dictiterobject", "di_dict")                                                  \
    X(dictiter_result, "dictiterobject", "di_result")                                              \
    X(setiter_set, "setiterobject", "si_set")                                                      \
    X(enum_sit, "enumobject", "en_sit")                                                            \
    X(enum_result, "enumobject", "en_result")                                                      \
    X(enum_longindex, "enumobject", "en_longindex")                                                \
    X(count_long_cnt, "countobject", "long_cnt")                                                   \
    X(count_long_step, "countobject", "long_step")                                                 \
    X(itemgetter_item, "itemgetterobject", "item")                                                 \
    X(attrgetter_attr, "attrgetterobject", "attr")                                                 \
    X(ga_origin, "gaobject", "origin")                                                             \
    X(ga_args, "gaobject", "args")                                                                 \
    X(ga_parameters, "gaobject", "parameters")                                                     \
    /* the fields of the exceptions with their own tp_traverse (cpython/referents.c) */            \
    X(oserror_errno, "PyOSErrorObject", "myerrno")                                                 \
    X(oserror_strerror, "PyOSErrorObject", "strerror")                                             \
    X(oserror_filename, "PyOSErrorObject", "filename")                                             \
    X(oserror_filename2, "PyOSErrorObject", "filename2")                                           \
    X(importerror_msg, "PyImportErrorObject", "msg")                                               \
    X(importerror_name, "PyImportErrorObject", "name")                                             \
    X(importerror_path, "PyImportErrorObject", "path")                                             \
    X(importerror_name_from, "PyImportErrorObject", "name_from")                                   \
    X(stopiteration_value, "PyStopIterationObject", "value")                                       \
    X(syntaxerror_msg, "PySyntaxErrorObject", "msg")                                               \
    X(syntaxerror_filename, "PySyntaxErrorObject", "filename")                                     \
    X(syntaxerror_lineno, "PySyntaxErrorObject", "lineno")                                         \
    X(syntaxerror_offset, "PySyntaxErrorObject", "offset")                                         \
    X(syntaxerror_end_lineno, "PySyntaxErrorObject", "end_lineno")                                 \
    X(syntaxerror_end_offset, "PySyntaxErrorObject", "end_offset")                                 \
    X(syntaxerror_text, "PySyntaxErrorObject", "text")                                             \
    X(syntaxerror_print_file_and_line, "PySyntaxErrorObject", "print_file_and_line")               \
    X(attributeerror_obj, "PyAttributeErrorObject", "obj")                                         \
    X(attributeerror_name, "PyAttributeErrorObject", "name")                                       \
    X(nameerror_name, "PyNameErrorObject", "name")                                                 \
    X(unicodeerror_encoding, "PyUnicodeErrorObject", "encoding")                                   \
    X(unicodeerror_object, "PyUnicodeErrorObject", "object")                                       \
    X(unicodeerror_reason, "PyUnicodeErrorObject", "reason")                                       \
    X(systemexit_code, "PySystemExitObject", "code")                                               \
    X(excgroup_msg, "PyBaseExceptionGroupObject", "msg")                                           \
    X(excgroup_excs, "PyBaseExceptionGroupObject", "excs")

enum pk_layout_field {
#define PK_X(name, types, member) PK_L_##name,
    PK_LAYOUT_FIELDS(PK_X)
#undef PK_X
        PK_L_COUNT
};

/* GC list layouts (see shared/reference/cpython-internals.md §1). */
enum pk_gc_kind {
    PK_GC_GENERATIONAL, /* generations[3] (+ generation0): 3.9-3.13, 3.14.5+ */
    PK_GC_INCREMENTAL,  /* young, old[2], visited_space: 3.14.0-3.14.4 */
};

/* Whether sys.getsizeof of a static type object counts its GC header (see layout.c). */
enum pk_static_type_header {
    PK_STATIC_TYPE_HEADER_NEVER,
    PK_STATIC_TYPE_HEADER_ALWAYS,
    PK_STATIC_TYPE_HEADER_UNLESS_TYPE, /* not when the static type's metatype is `type` */
};

struct pk_layout {
    uint32_t py_version_hex; /* PY_VERSION_HEX of the target */
    struct pk_field f[PK_L_COUNT];
    enum pk_gc_kind gc_kind;
    /* 3.8: the GC state is _PyRuntime.gc, shared by all interpreters. interp_gc is then 0 and
       the collector passes the state's own address where an interpreter's is expected. */
    int gc_in_runtime;
    /* Constants per version (macros in CPython, so not in DWARF). */
    uint64_t gc_link_mask; /* mask applied to _gc_next/_gc_prev links */
    uint64_t tpflags_heaptype, tpflags_have_gc, tpflags_type_subclass;
    uint64_t tpflags_preheader; /* flags whose presence adds preheader_extra bytes */
    uint32_t preheader_extra;   /* managed dict/weakref pointers before the GC header */
    /* pymalloc geometry (Objects/obmalloc.c): POOL_SIZE, ARENA_SIZE, ALIGNMENT. */
    uint64_t pool_size, arena_size_bytes, pymalloc_alignment;
    uint32_t gc_debug_saveall; /* gc.DEBUG_SAVEALL */
    /* Object graph (cpython/referents.c): Py_TPFLAGS_MANAGED_DICT (3.11+), INLINE_VALUES
       (3.13+), UNICODE_SUBCLASS; where the managed dict / values pointers sit below the object
       (0 = not in this version); whether 3.12's o-24 word is a tagged dict-or-values. */
    uint64_t tpflags_managed_dict, tpflags_inline_values, tpflags_unicode_subclass;
    uint32_t managed_dict_below, managed_values_below;
    int managed_dict_tagged;
    /* structmember.h: T_OBJECT, T_OBJECT_EX (Py_T_OBJECT_EX in 3.12+). */
    int member_t_object, member_t_object_ex;
    /* 3.14+: frame slots are _PyStackRefs whose low bits are tags (pycore_stackref.h:
       Py_TAG_BITS 3; all bits set is a tagged int, not a pointer); 0 before 3.14. */
    uint64_t stackref_tag_bits;
    enum pk_static_type_header static_type_gc_header;
    /* pycore_frame.h FRAME_CLEARED: a generator's frame is traversed while gi_frame_state is
       below it (3.11-3.14: 4; 3.15 renumbered the states from 0: 5); 0 before 3.11. */
    int gen_frame_cleared;
    /* Objects/longobject.c int___sizeof__: the least digits it counts (1 from 3.11, else 0). */
    uint32_t long_min_digits;
    /* pycore_frame.h FRAME_OWNED_BY_FRAME_OBJECT (3.11+: 2): a frame object traverses its
       embedded _PyInterpreterFrame only when it owns it; 0 before 3.11. */
    int frame_owned_by_frame_object;
    /* _Py_TPFLAGS_STATIC_BUILTIN (3.12+: 1 << 1); 0 before 3.12. */
    uint64_t tpflags_static_builtin;
    /* Include/object.h: 3.12+ keep the reference count in the low 32 bits of ob_refcnt (the
       high ones are 0, or 3.14's flags) and an object is immortal when bit 31 is set
       (_Py_IsImmortal: (int32_t)ob_refcnt < 0); before, ob_refcnt is a Py_ssize_t. */
    int refcnt_low32_immortal;
    /* pycore_frame.h: frames owned by the C stack (3.12, 3.13: FRAME_OWNED_BY_CSTACK 3) or the
       interpreter (3.14+: FRAME_OWNED_BY_INTERPRETER 3, CSTACK 4) are no Python frames; 0 when
       every owner is one (3.11). */
    int frame_owner_internal;
    /* Bit (1 << PK_FEAT_x) set when every field feature x requires is present. */
    uint32_t features;
};

/* pypeek reads 64-bit targets: pointers and Py_ssize_t are read into 64-bit variables, and
   pk_layout_finish refuses a layout whose pointers (sizeof ob_type, from DWARF) differ. */
#define PK_PTR_SIZE 8u

#define PK_F(l, name) ((l)->f[PK_L_##name])
#define PK_HAS(l, name) pk_field_ok(PK_F(l, name))
#define PK_OFF(l, name) pk_layout_off((l), PK_L_##name)

/* The offset PK_OFF gives for a field this layout lacks: added to any user-space address it
   lands beyond the address space (no wrap below 2^63), so the bounded reader rejects it; cut
   to 32 bits it is still 4 GiB, beyond any object or header buffer. */
#define PK_OFF_ABSENT UINT64_C(0x40000000fffff000)

/* The checked accessor behind PK_OFF. A field outside the required set of the feature that
   reads it must be tested with PK_HAS first: debug and sanitizer builds assert it, release
   builds return PK_OFF_ABSENT so that the read fails cleanly instead of landing at obj - 1. */
static inline uint64_t pk_layout_off(const struct pk_layout *l, enum pk_layout_field i)
{
    struct pk_field f = l->f[i];
    assert(pk_field_ok(f) && "PK_OFF of a missing field: test PK_HAS or require it");
    return pk_field_ok(f) ? (uint64_t)f.off : PK_OFF_ABSENT;
}

/* What pypeek reads, each with the fields it cannot work without (symbols/layout_features.c).
   The census is required (pk_layout_finish fails without it); the others are switched off,
   with a message naming the missing field, when the layout lacks one. */
enum pk_feature {
    PK_FEAT_CENSUS,   /* GC lists, types, sizes of every object (sets, lists, dicts, strings) */
    PK_FEAT_GRAPH,    /* the object graph: referents, reference counts */
    PK_FEAT_PYMALLOC, /* arenas and pools */
    PK_FEAT_COUNT
};

/* The newest CPython minor version whose per-version rules pypeek knows; newer ones are read
   from DWARF alone, with a warning, or refused (exit 4) when DWARF lacks a needed field. */
#define PK_NEWEST_KNOWN_MINOR 15

/* Fills l->f from DWARF and the constants from the version. Returns 0, or -PK_E_NO_LAYOUT
   naming the first field that pypeek cannot work without. */
int pk_layout_from_dwarf(struct pk_layout *l, struct pk_dwarf *d, uint32_t py_version_hex,
                         struct pk_err *e);
/* The first half of pk_layout_from_dwarf: l->f from DWARF only (no checks, no constants). */
int pk_layout_resolve_dwarf(struct pk_layout *l, struct pk_dwarf *d, uint32_t py_version_hex,
                            struct pk_err *e);
/* Sets the per-version constants and the GC kind; checks the fields the census needs. */
int pk_layout_finish(struct pk_layout *l, struct pk_err *e);
const char *pk_layout_field_name(enum pk_layout_field i);
const char *pk_layout_feature_name(enum pk_feature f);
/* The first field feature f requires that l lacks, or PK_L_COUNT when it has them all. */
enum pk_layout_field pk_layout_feature_missing(const struct pk_layout *l, enum pk_feature f);
/* Sets l->features from l->f (pk_layout_finish calls it). */
void pk_layout_features_resolve(struct pk_layout *l);
static inline int pk_layout_has(const struct pk_layout *l, enum pk_feature f)
{
    return (l->features >> f) & 1;
}
/* 0 when feature f is available, else -PK_E_NO_LAYOUT with a message naming the field. */
int pk_layout_need(const struct pk_layout *l, enum pk_feature f, struct pk_err *e);
/* Where interpreter interp's GC state is (the struct _gc_runtime_state): in the interpreter, or
   (3.8) _PyRuntime.gc at runtime_addr, shared by all interpreters. No memory is read. */
uint64_t pk_layout_gc_state_addr(const struct pk_layout *l, uint64_t runtime_addr, uint64_t interp);
/* The DWARF query (type names, member) behind a field, for resolving it from another module. */
struct pk_dwarf_query pk_layout_query(enum pk_layout_field i);

#endif
