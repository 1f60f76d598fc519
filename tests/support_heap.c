/* Building GC lists and objects in a synthetic image with the mini CPython structs. */
#include "tests/support_heap.h"

#include <stddef.h>
#include <string.h>

#include "tests/support_py.h"

uint64_t heap_new_head(struct img *im)
{
    uint64_t h = img_alloc(im, sizeof(PyGC_Head));
    heap_link(im, h, NULL, 0);
    return h;
}

uint64_t heap_obj(uint64_t gc)
{
    return gc + sizeof(PyGC_Head);
}

uint64_t heap_new_gc_object(struct img *im, size_t basicsize, uint64_t type)
{
    if (basicsize < sizeof(PyObject)) basicsize = sizeof(PyObject);
    uint64_t gc = img_alloc(im, sizeof(PyGC_Head) + basicsize);
    img_put_u64(im, heap_obj(gc) + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, heap_obj(gc) + offsetof(PyObject, ob_type), type);
    return gc;
}

void heap_set_next(struct img *im, uint64_t gc, uint64_t next)
{
    img_put_u64(im, gc + offsetof(PyGC_Head, _gc_next), next);
}

void heap_set_prev(struct img *im, uint64_t gc, uint64_t prev)
{
    img_put_u64(im, gc + offsetof(PyGC_Head, _gc_prev), prev);
}

void heap_link(struct img *im, uint64_t head, const uint64_t *gc, size_t n)
{
    uint64_t prev = head;
    for (size_t i = 0; i < n; i++) {
        heap_set_next(im, prev, gc[i]);
        heap_set_prev(im, gc[i], prev);
        prev = gc[i];
    }
    heap_set_next(im, prev, head);
    heap_set_prev(im, head, prev);
}

uint64_t heap_new_type(struct img *im, uint64_t metatype, const char *name, unsigned long flags,
                       Py_ssize_t basicsize, Py_ssize_t itemsize)
{
    uint64_t t = img_alloc(im, sizeof(PyHeapTypeObject));
    uint64_t s = img_alloc(im, strlen(name) + 1);
    img_put(im, s, name, strlen(name) + 1);
    img_put_u64(im, t + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, t + offsetof(PyObject, ob_type), metatype ? metatype : t);
    img_put_u64(im, t + offsetof(PyTypeObject, tp_name), s);
    img_put_u64(im, t + offsetof(PyTypeObject, tp_flags), flags);
    img_put_u64(im, t + offsetof(PyTypeObject, tp_basicsize), (uint64_t)basicsize);
    img_put_u64(im, t + offsetof(PyTypeObject, tp_itemsize), (uint64_t)itemsize);
    return t;
}
