/* Building GC lists and objects in a synthetic image with the mini CPython structs. */
#ifndef PK_TEST_SUPPORT_HEAP_H
#define PK_TEST_SUPPORT_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "tests/support_image.h"
#include "tests/support_py.h"

/* A PyGC_Head linked to itself (an empty list); returns its address. */
uint64_t heap_new_head(struct img *im);
/* A GC-tracked object of basicsize bytes (after its PyGC_Head) whose ob_type is type. Returns the
   address of its PyGC_Head; the object is at that + sizeof(PyGC_Head). */
uint64_t heap_new_gc_object(struct img *im, size_t basicsize, uint64_t type);
uint64_t heap_obj(uint64_t gc);
/* Links head -> gc[0] -> ... -> gc[n-1] -> head through _gc_next/_gc_prev. */
void heap_link(struct img *im, uint64_t head, const uint64_t *gc, size_t n);
void heap_set_next(struct img *im, uint64_t gc, uint64_t next);
void heap_set_prev(struct img *im, uint64_t gc, uint64_t prev);
/* A type object: tp_name is a C string in the image, ob_type is metatype (0: itself). */
uint64_t heap_new_type(struct img *im, uint64_t metatype, const char *name, unsigned long flags,
                       Py_ssize_t basicsize, Py_ssize_t itemsize);

#endif
