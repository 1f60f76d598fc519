/* Thread stacks from synthetic 3.11 memory: a well-formed chain read with names, files and
   lines; corrupt chains (a cycle, an unmapped or misaligned frame, a chain deeper than the
   bound, a garbage line table) give a partial stack and a truncated reason, never a failure. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/frames.h"
#include "cpython/stacks.h"
#include "tests/support_heap.h"

/* Mini 3.11 code objects and interpreter frames with CPython's member names (the layout reads
   them from this binary's DWARF). */
typedef struct {
    PyVarObject ob_base;
    char ob_sval[1];
} PyBytesObject;
typedef struct {
    PyVarObject ob_base;
    int co_firstlineno, co_nlocalsplus;
    PyObject *co_localsplusnames, *co_filename, *co_name, *co_qualname, *co_linetable;
    char co_code_adaptive[1];
} PyCodeObject;
typedef struct _PyInterpreterFrame {
    PyCodeObject *f_code;
    struct _PyInterpreterFrame *previous;
    void *prev_instr;
    char is_entry, owner;
    PyObject *localsplus[1];
} _PyInterpreterFrame;
typedef struct _PyCFrame {
    _PyInterpreterFrame *current_frame;
} _PyCFrame;
__attribute__((used)) PyBytesObject st_bytes;
__attribute__((used)) PyCodeObject st_code;
__attribute__((used)) _PyInterpreterFrame st_iframe;
__attribute__((used)) _PyCFrame st_cframe;

#define OFF_TS_CFRAME sizeof(PyThreadState) /* PyThreadState.cframe: after the mini struct */

struct fx {
    struct img *im;
    struct pk_target t;
    uint64_t str_type, interp, ts, empty_tuple;
    struct pk_snapshot s;
};

static uint64_t new_ascii(struct fx *fx, const char *text)
{
    size_t n = strlen(text);
    PyASCIIObject a;
    memset(&a, 0, sizeof a);
    a.ob_base.ob_type = (void *)(uintptr_t)fx->str_type;
    a.length = (Py_ssize_t)n;
    a.state.kind = 1;
    a.state.compact = a.state.ascii = a.state.ready = 1;
    uint64_t s = img_alloc(fx->im, sizeof a + n + 1);
    img_put(fx->im, s, &a, sizeof a);
    img_put(fx->im, s + sizeof a, text, n);
    return s;
}

static uint64_t new_bytes(struct fx *fx, const uint8_t *b, size_t n)
{
    uint64_t o = img_alloc(fx->im, sizeof(PyBytesObject) + n);
    img_put_u64(fx->im, o + offsetof(PyVarObject, ob_size), n);
    img_put(fx->im, o + offsetof(PyBytesObject, ob_sval), b, n);
    return o;
}

/* A code object named name in file, first line 10, whose table puts code units 0-1 on line 10
   and 2-3 on line 12 (a 3.11 "one line 2" entry after a "one line 0" one), or table. */
static uint64_t new_code(struct fx *fx, const char *name, const uint8_t *table, size_t tlen)
{
    static const uint8_t lines[] = {0xd1, 0xe1}; /* 2 units +0 lines, 2 units +2 lines */
    uint64_t c = img_alloc(fx->im, sizeof(PyCodeObject) + 16);
    img_put_u64(fx->im, c + offsetof(PyObject, ob_type), fx->t.builtin_types[PK_BT_CODE]);
    int32_t first = 10;
    img_put(fx->im, c + offsetof(PyCodeObject, co_firstlineno), &first, 4);
    img_put_u64(fx->im, c + offsetof(PyCodeObject, co_localsplusnames), fx->empty_tuple);
    img_put_u64(fx->im, c + offsetof(PyCodeObject, co_filename), new_ascii(fx, "app.py"));
    img_put_u64(fx->im, c + offsetof(PyCodeObject, co_qualname), new_ascii(fx, name));
    img_put_u64(fx->im, c + offsetof(PyCodeObject, co_linetable),
                table ? new_bytes(fx, table, tlen) : new_bytes(fx, lines, sizeof lines));
    return c;
}

/* A frame of code executing code unit `unit` (prev_instr points at it). */
static uint64_t new_frame(struct fx *fx, uint64_t code, int unit)
{
    uint64_t f = img_alloc(fx->im, sizeof(_PyInterpreterFrame));
    img_put_u64(fx->im, f + offsetof(_PyInterpreterFrame, f_code), code);
    img_put_u64(fx->im, f + offsetof(_PyInterpreterFrame, prev_instr),
                code + offsetof(PyCodeObject, co_code_adaptive) + (uint64_t)unit * 2);
    return f;
}

static void link_frames(struct fx *fx, uint64_t from, uint64_t to)
{
    img_put_u64(fx->im, from + offsetof(_PyInterpreterFrame, previous), to);
}

static void setup(struct fx *fx, size_t image)
{
    memset(fx, 0, sizeof *fx);
    support_layout(&fx->t.layout);
    struct pk_layout *l = &fx->t.layout;
    PK_F(l, tstate_cframe) = (struct pk_field){(int32_t)OFF_TS_CFRAME, 8, 0, 0};
    cr_assert(PK_HAS(l, iframe_prev_instr) && PK_HAS(l, code_linetable) &&
                  PK_HAS(l, code_code_adaptive) && PK_HAS(l, bytes_sval),
              "the test's structs are in its layout");
    fx->im = img_new(image);
    uint64_t meta = heap_new_type(fx->im, 0, "type", 0, sizeof(PyTypeObject), 0);
    fx->str_type = heap_new_type(fx->im, meta, "str", 0, sizeof(PyASCIIObject), 1);
    fx->t.builtin_types[PK_BT_CODE] = heap_new_type(fx->im, meta, "code", 0, 200, 2);
    fx->empty_tuple = img_alloc(fx->im, sizeof(PyTupleObject));
    fx->interp = img_alloc(fx->im, sizeof(PyInterpreterState));
    fx->ts = img_alloc(fx->im, sizeof(PyThreadState) + 8);
    img_put_u64(fx->im, fx->interp + offsetof(PyInterpreterState, threads.head), fx->ts);
    img_put_u64(fx->im, fx->ts + offsetof(PyThreadState, native_thread_id), 4242);
    fx->s.interps = calloc(1, sizeof *fx->s.interps);
    fx->s.ninterps = 1;
    fx->s.interps[0].addr = fx->interp;
}

static const struct pk_thread_snap *walk(struct fx *fx, uint64_t innermost)
{
    uint64_t cframe = img_alloc(fx->im, sizeof(_PyCFrame));
    img_put_u64(fx->im, cframe + offsetof(_PyCFrame, current_frame), innermost);
    img_put_u64(fx->im, fx->ts + OFF_TS_CFRAME, cframe);
    cr_assert_eq(pk_stacks_collect(fx->im->mem, &fx->t, NULL, 0, &fx->s), 0);
    cr_assert_eq(fx->s.nthreads, 1);
    cr_assert_eq(fx->s.threads[0].tid, -1, "no OS thread was given");
    return &fx->s.threads[0];
}

static void teardown(struct fx *fx)
{
    pk_snapshot_free(&fx->s);
    img_free(fx->im);
}

Test(stacks, chain_with_names_files_and_lines)
{
    struct fx fx;
    setup(&fx, 1 << 16);
    uint64_t inner = new_frame(&fx, new_code(&fx, "Service.handle", NULL, 0), 3);
    uint64_t outer = new_frame(&fx, new_code(&fx, "main", NULL, 0), 0);
    link_frames(&fx, inner, outer);
    const struct pk_thread_snap *th = walk(&fx, inner);
    cr_assert_eq(th->nframes, 2);
    cr_expect_str_eq(th->frames[0].function, "Service.handle");
    cr_expect_str_eq(th->frames[0].file, "app.py");
    cr_expect_eq(th->frames[0].line, 12, "unit 3 is on line 12, not %d", th->frames[0].line);
    cr_expect_str_eq(th->frames[1].function, "main");
    cr_expect_eq(th->frames[1].line, 10);
    cr_expect_null(th->truncated, "complete, not '%s'", th->truncated);
    teardown(&fx);
}

Test(stacks, cycle_is_cut_with_a_reason)
{
    struct fx fx;
    setup(&fx, 1 << 16);
    uint64_t code = new_code(&fx, "f", NULL, 0);
    uint64_t a = new_frame(&fx, code, 0), b = new_frame(&fx, code, 1), c = new_frame(&fx, code, 2);
    link_frames(&fx, a, b);
    link_frames(&fx, b, c);
    link_frames(&fx, c, b);
    const struct pk_thread_snap *th = walk(&fx, a);
    cr_expect_str_eq(th->truncated, "the frame chain loops");
    cr_expect(th->nframes >= 3 && th->nframes <= 8, "%zu frames", th->nframes);
    teardown(&fx);
}

Test(stacks, unmapped_and_misaligned_frames_are_cut_with_a_reason)
{
    struct fx fx;
    setup(&fx, 1 << 16);
    uint64_t code = new_code(&fx, "f", NULL, 0);
    uint64_t a = new_frame(&fx, code, 0);
    link_frames(&fx, a, img_hole(fx.im));
    const struct pk_thread_snap *th = walk(&fx, a);
    cr_expect_eq(th->nframes, 1);
    cr_expect_str_eq(th->truncated, "a frame is unreadable");
    pk_threads_snap_free(&fx.s);
    link_frames(&fx, a, a + 3);
    th = walk(&fx, a);
    cr_expect_eq(th->nframes, 1);
    cr_expect_str_eq(th->truncated, "a frame pointer is misaligned");
    teardown(&fx);
}

Test(stacks, deep_chain_is_bounded)
{
    struct fx fx;
    setup(&fx, 1 << 20);
    uint64_t code = new_code(&fx, "recurse", NULL, 0);
    uint64_t first = new_frame(&fx, code, 0), prev = first;
    for (int i = 0; i < PK_FRAMES_MAX_DEPTH + 8; i++) {
        uint64_t f = new_frame(&fx, code, 0);
        link_frames(&fx, prev, f);
        prev = f;
    }
    const struct pk_thread_snap *th = walk(&fx, first);
    cr_expect_eq(th->nframes, PK_FRAMES_MAX_DEPTH);
    cr_expect_str_eq(th->truncated, "more frames than pypeek reads per thread");
    teardown(&fx);
}

Test(stacks, garbage_line_table_gives_no_line)
{
    struct fx fx;
    setup(&fx, 1 << 16);
    static const uint8_t garbage[] = {0x01, 0x7f, 0x7f, 0x7f};
    uint64_t a = new_frame(&fx, new_code(&fx, "f", garbage, sizeof garbage), 1);
    uint64_t b = new_frame(&fx, new_code(&fx, "g", NULL, 0), 2);
    link_frames(&fx, a, b);
    const struct pk_thread_snap *th = walk(&fx, a);
    cr_assert_eq(th->nframes, 2);
    cr_expect_eq(th->frames[0].line, -1);
    cr_expect_eq(th->frames[1].line, 12);
    cr_expect_null(th->truncated);
    teardown(&fx);
}
