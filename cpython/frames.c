/* Thread frames and their named locals, read through the layout; bounded and validated. */
#include "cpython/frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/linetable.h"
#include "cpython/pystr.h"

#define NAME_CAP 200
#define CHUNK 1024 /* slots read per call */

static int aligned(uint64_t a)
{
    return a && !(a & 7);
}

static int is_code(struct pk_mem *m, const struct pk_target *t, uint64_t obj)
{
    uint64_t type = 0, code_type = t->builtin_types[PK_BT_CODE];
    return code_type && aligned(obj) &&
           pk_mem_read_u64(m, obj + PK_OFF(&t->layout, object_type), &type) == 0 &&
           type == code_type;
}

/* A tuple's length and items address, or -1 when it is not readable as one. */
static int64_t tuple_view(struct pk_mem *m, const struct pk_layout *l, uint64_t tup,
                          uint64_t *items)
{
    int64_t n;
    if (!aligned(tup) || !PK_HAS(l, tuple_item) ||
        pk_mem_read(m, tup + PK_OFF(l, varobject_size), &n, sizeof n) < 0 || n < 0 ||
        n > PK_FRAMES_MAX_LOCALS)
        return -1;
    *items = tup + PK_OFF(l, tuple_item);
    return n;
}

static uint64_t str_at(struct pk_mem *m, const struct pk_layout *l, uint64_t items, int64_t n,
                       int64_t i, char *out, size_t cap)
{
    uint64_t s = 0;
    if (i < 0 || i >= n || pk_mem_read_u64(m, items + (uint64_t)i * PK_PTR_SIZE, &s) < 0 ||
        !aligned(s) || pk_pystr_read(m, l, s, out, cap) < 0) {
        snprintf(out, cap, "?");
        return 0;
    }
    return s;
}

/* The name of local slot i: co_localsplusnames (3.11+), else varnames + cellvars + freevars. */
struct code_names {
    uint64_t items[3];
    int64_t n[3];
    int nparts;
};

static int code_names_read(struct pk_mem *m, const struct pk_layout *l, uint64_t code,
                           struct code_names *cn, int64_t *nslots)
{
    memset(cn, 0, sizeof *cn);
    uint64_t tup;
    if (PK_HAS(l, code_localsplusnames) && PK_HAS(l, code_nlocalsplus)) {
        int32_t n;
        if (pk_mem_read_u64(m, code + PK_OFF(l, code_localsplusnames), &tup) < 0 ||
            pk_mem_read(m, code + PK_OFF(l, code_nlocalsplus), &n, 4) < 0 || n < 0 ||
            n > PK_FRAMES_MAX_LOCALS)
            return -PK_E_INCONSISTENT;
        cn->n[0] = tuple_view(m, l, tup, &cn->items[0]);
        if (cn->n[0] != n) return -PK_E_INCONSISTENT;
        cn->nparts = 1;
        *nslots = n;
        return 0;
    }
    if (!PK_HAS(l, code_varnames) || !PK_HAS(l, code_cellvars) || !PK_HAS(l, code_freevars) ||
        !PK_HAS(l, code_nlocals))
        return -PK_E_INCONSISTENT;
    int32_t nlocals;
    if (pk_mem_read(m, code + PK_OFF(l, code_nlocals), &nlocals, 4) < 0 || nlocals < 0)
        return -PK_E_INCONSISTENT;
    const struct pk_field parts[3] = {PK_F(l, code_varnames), PK_F(l, code_cellvars),
                                      PK_F(l, code_freevars)};
    *nslots = 0;
    for (int k = 0; k < 3; k++) {
        if (pk_mem_read_u64(m, code + (uint64_t)parts[k].off, &tup) < 0) return -PK_E_INCONSISTENT;
        cn->n[k] = tuple_view(m, l, tup, &cn->items[k]);
        if (cn->n[k] < 0) return -PK_E_INCONSISTENT;
        *nslots += cn->n[k];
    }
    if (cn->n[0] != nlocals || *nslots > PK_FRAMES_MAX_LOCALS) return -PK_E_INCONSISTENT;
    cn->nparts = 3;
    return 0;
}

static uint64_t code_name_of(struct pk_mem *m, const struct pk_layout *l,
                             const struct code_names *cn, int64_t i, char *out, size_t cap)
{
    for (int k = 0; k < cn->nparts; k++) {
        if (i < cn->n[k]) return str_at(m, l, cn->items[k], cn->n[k], i, out, cap);
        i -= cn->n[k];
    }
    snprintf(out, cap, "?");
    return 0;
}

static void func_name_of(struct pk_mem *m, const struct pk_layout *l, uint64_t code, char *out,
                         size_t cap)
{
    uint64_t s = 0;
    struct pk_field f = PK_HAS(l, code_qualname) ? PK_F(l, code_qualname) : PK_F(l, code_name);
    if (!pk_field_ok(f) || pk_mem_read_u64(m, code + (uint64_t)f.off, &s) < 0 || !aligned(s) ||
        pk_pystr_read(m, l, s, out, cap) < 0)
        snprintf(out, cap, "?");
}

/* The code object of a 3.11+ interpreter frame (f_code, or f_executable minus its tag). */
static uint64_t iframe_code(struct pk_mem *m, const struct pk_layout *l, uint64_t iframe)
{
    uint64_t code = 0;
    struct pk_field f = PK_HAS(l, iframe_code) ? PK_F(l, iframe_code) : PK_F(l, iframe_executable);
    if (!pk_field_ok(f) || pk_mem_read_u64(m, iframe + (uint64_t)f.off, &code) < 0) return 0;
    return code & ~l->stackref_tag_bits;
}

int64_t pk_frame_live_slots(struct pk_mem *m, const struct pk_layout *l, uint64_t iframe)
{
    if (PK_HAS(l, iframe_stacktop)) {
        int32_t top;
        int r = pk_mem_read(m, iframe + PK_OFF(l, iframe_stacktop), &top, 4);
        if (r < 0) return r;
        return top < 0 ? 0 : top;
    }
    if (PK_HAS(l, iframe_stackpointer) && PK_HAS(l, iframe_localsplus)) {
        uint64_t sp, base = iframe + PK_OFF(l, iframe_localsplus);
        int r = pk_mem_read_u64(m, iframe + PK_OFF(l, iframe_stackpointer), &sp);
        if (r < 0) return r;
        if (sp < base || (sp - base) % PK_PTR_SIZE ||
            (sp - base) / PK_PTR_SIZE > PK_FRAMES_MAX_LOCALS)
            return 0;
        return (int64_t)((sp - base) / PK_PTR_SIZE);
    }
    return -PK_E_INCONSISTENT;
}

int pk_code_frame_slots(struct pk_mem *m, const struct pk_layout *l, uint64_t code,
                        int64_t *nlocalsplus, int64_t *stacksize)
{
    struct code_names cn;
    int32_t ss;
    int rc;
    if (!aligned(code) || !PK_HAS(l, code_stacksize)) return -PK_E_INCONSISTENT;
    if ((rc = code_names_read(m, l, code, &cn, nlocalsplus)) < 0) return rc;
    if ((rc = pk_mem_read(m, code + PK_OFF(l, code_stacksize), &ss, 4)) < 0) return rc;
    if (ss < 0 || ss > PK_FRAMES_MAX_LOCALS) return -PK_E_INCONSISTENT;
    *stacksize = ss;
    return 0;
}

int64_t pk_frame_object_live_slots(struct pk_mem *m, const struct pk_target *t, uint64_t frame)
{
    const struct pk_layout *l = &t->layout;
    uint64_t code = 0, stack = 0;
    struct code_names cn;
    int64_t nlocals, depth = -1;
    if (!PK_HAS(l, frame_code) || !PK_HAS(l, frame_localsplus) || !PK_HAS(l, frame_valuestack))
        return -PK_E_INCONSISTENT;
    if (pk_mem_read_u64(m, frame + PK_OFF(l, frame_code), &code) < 0 || !is_code(m, t, code) ||
        code_names_read(m, l, code, &cn, &nlocals) < 0 ||
        pk_mem_read_u64(m, frame + PK_OFF(l, frame_valuestack), &stack) < 0)
        return -PK_E_INCONSISTENT;
    if (stack != frame + PK_OFF(l, frame_localsplus) + (uint64_t)nlocals * PK_PTR_SIZE) return -1;
    if (PK_HAS(l, frame_stacktop)) {
        uint64_t top = 0;
        if (pk_mem_read_u64(m, frame + PK_OFF(l, frame_stacktop), &top) < 0) return -PK_E_UNMAPPED;
        if (top && top >= stack && (top - stack) % PK_PTR_SIZE == 0)
            depth = (int64_t)((top - stack) / PK_PTR_SIZE);
    } else if (PK_HAS(l, frame_stackdepth)) {
        int32_t d = -1;
        if (pk_mem_read(m, frame + PK_OFF(l, frame_stackdepth), &d, 4) < 0) return -PK_E_UNMAPPED;
        depth = d;
    }
    if (depth < 0 || depth > PK_FRAMES_MAX_LOCALS) return -1;
    return nlocals + depth;
}

int pk_frame_locals(struct pk_mem *m, const struct pk_target *t, uint64_t iframe, uint64_t frame,
                    int64_t nslots_live, pk_frame_fn fn, void *arg)
{
    const struct pk_layout *l = &t->layout;
    uint64_t code = 0, base;
    if (iframe) {
        if (!PK_HAS(l, iframe_localsplus)) return -PK_E_INCONSISTENT;
        code = iframe_code(m, l, iframe);
        base = iframe + PK_OFF(l, iframe_localsplus);
    } else {
        if (!PK_HAS(l, frame_code) || !PK_HAS(l, frame_localsplus)) return -PK_E_INCONSISTENT;
        if (pk_mem_read_u64(m, frame + PK_OFF(l, frame_code), &code) < 0) return -PK_E_UNMAPPED;
        base = frame + PK_OFF(l, frame_localsplus);
    }
    if (!is_code(m, t, code)) return -PK_E_INCONSISTENT;
    struct code_names cn;
    int64_t nlocals, n;
    int rc = code_names_read(m, l, code, &cn, &nlocals);
    if (rc < 0) return rc;
    n = nslots_live < 0 ? nlocals : nslots_live;
    if (n > PK_FRAMES_MAX_LOCALS) return -PK_E_INCONSISTENT;
    uint64_t buf[CHUNK];
    char name[NAME_CAP];
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t k = n - i < CHUNK ? n - i : CHUNK;
        if ((rc = pk_mem_read(m, base + (uint64_t)i * PK_PTR_SIZE, buf, (size_t)k * sizeof *buf)) <
            0)
            return rc;
        for (int64_t j = 0; j < k; j++) {
            uint64_t v = buf[j];
            uint64_t tag = l->stackref_tag_bits;
            if (tag && (v & tag) == tag) continue; /* a tagged int, not an object */
            v &= ~tag;
            if (!aligned(v)) continue; /* unbound */
            struct pk_frame_visit fv = {.kind = PK_FE_LOCAL, .index = i + j, .value = v};
            if (i + j < nlocals) {
                fv.name_addr = code_name_of(m, l, &cn, i + j, name, sizeof name);
                fv.name = name;
            }
            if ((rc = fn(&fv, arg)) != 0) return rc;
        }
    }
    return 0;
}

/* The line a frame executes, as PyFrame_GetLineNumber says: f_lineno while a trace function
   set it (3.9: only with f_trace; 3.10+: when non-zero), else the line table at the frame's
   last instruction (f_lasti in bytes 3.9, in code units 3.10; 3.11+ prev_instr / instr_ptr
   minus the code's first instruction). -1 when unknown. */
static int frame_line(struct pk_mem *m, const struct pk_layout *l, uint64_t f, int legacy,
                      uint64_t code)
{
    int32_t lineno = 0;
    int64_t addr;
    if (legacy) {
        int32_t lasti;
        if (PK_HAS(l, frame_lineno)) pk_mem_read(m, f + PK_OFF(l, frame_lineno), &lineno, 4);
        if (PK_HAS(l, code_lnotab)) { /* 3.8, 3.9 */
            uint64_t trace = 0;
            if (PK_HAS(l, frame_trace)) pk_mem_read_u64(m, f + PK_OFF(l, frame_trace), &trace);
            if (trace && lineno > 0) return lineno;
        } else if (lineno > 0) {
            return lineno;
        }
        if (!PK_HAS(l, frame_lasti) || pk_mem_read(m, f + PK_OFF(l, frame_lasti), &lasti, 4) < 0)
            return -1;
        addr = PK_HAS(l, code_lnotab) ? lasti : (int64_t)lasti * 2;
    } else {
        uint64_t fo = 0, ip = 0;
        if (PK_HAS(l, iframe_frame_obj) && PK_HAS(l, frame_lineno) &&
            pk_mem_read_u64(m, f + PK_OFF(l, iframe_frame_obj), &fo) == 0 && aligned(fo) &&
            pk_mem_read(m, fo + PK_OFF(l, frame_lineno), &lineno, 4) == 0 && lineno > 0)
            return lineno;
        struct pk_field ipf =
            PK_HAS(l, iframe_instr_ptr) ? PK_F(l, iframe_instr_ptr) : PK_F(l, iframe_prev_instr);
        if (!pk_field_ok(ipf) || !PK_HAS(l, code_code_adaptive) ||
            pk_mem_read_u64(m, f + (uint64_t)ipf.off, &ip) < 0)
            return -1;
        addr = (int64_t)(ip - (code + PK_OFF(l, code_code_adaptive)));
    }
    if (addr < -2 || addr > (int64_t)1 << 30) return -1; /* not in this code: corrupt */
    int line = pk_code_addr2line(m, l, code, addr);
    return line < 0 ? -1 : line;
}

static void frame_file(struct pk_mem *m, const struct pk_layout *l, uint64_t code, char *out,
                       size_t cap)
{
    uint64_t s = 0;
    if (!PK_HAS(l, code_filename) || pk_mem_read_u64(m, code + PK_OFF(l, code_filename), &s) < 0 ||
        !aligned(s) || pk_pystr_read(m, l, s, out, cap) < 0)
        snprintf(out, cap, "?");
}

/* 3.12+ frames owned by the C stack or the interpreter (entry and shim frames) are not
   Python frames: sys._current_frames() skips them too. */
static int internal_frame(struct pk_mem *m, const struct pk_layout *l, uint64_t iframe)
{
    uint8_t owner = 0;
    return l->frame_owner_internal && PK_HAS(l, iframe_owner) &&
           pk_mem_read(m, iframe + PK_OFF(l, iframe_owner), &owner, 1) == 0 &&
           owner >= l->frame_owner_internal;
}

/* Whether frame f is the outermost one its call of the eval loop runs: 3.9/3.10 run each
   frame in its own call; 3.11 marks it (is_entry); 3.12+ put an entry frame (owned by the C
   stack or the interpreter) or nothing before it. */
static int eval_entry(struct pk_mem *m, const struct pk_layout *l, uint64_t f, int legacy,
                      struct pk_field next)
{
    if (legacy) return 1;
    if (PK_HAS(l, iframe_is_entry)) {
        uint8_t e = 0;
        return pk_mem_read(m, f + PK_OFF(l, iframe_is_entry), &e, 1) == 0 && e;
    }
    uint64_t prev = 0;
    if (pk_mem_read_u64(m, f + (uint64_t)next.off, &prev) < 0 || !prev) return 1;
    return internal_frame(m, l, prev);
}

/* One thread's frames, innermost first. */
static int walk_thread(struct pk_mem *m, const struct pk_target *t, uint64_t ts,
                       struct pk_frame_visit *tv, unsigned flags, pk_frame_fn fn, void *arg,
                       uint64_t *budget)
{
    const struct pk_layout *l = &t->layout;
    uint64_t f = 0;
    const char *truncated = NULL;
    int legacy = PK_HAS(l, tstate_frame); /* 3.9, 3.10: PyFrameObject chain */
    if (legacy) {
        pk_mem_read_u64(m, ts + PK_OFF(l, tstate_frame), &f);
    } else if (PK_HAS(l, tstate_current_frame)) {
        pk_mem_read_u64(m, ts + PK_OFF(l, tstate_current_frame), &f);
    } else if (PK_HAS(l, tstate_cframe) && PK_HAS(l, cframe_current_frame)) {
        uint64_t cf = 0;
        if (pk_mem_read_u64(m, ts + PK_OFF(l, tstate_cframe), &cf) == 0 && aligned(cf))
            pk_mem_read_u64(m, cf + PK_OFF(l, cframe_current_frame), &f);
    }
    struct pk_field next = legacy ? PK_F(l, frame_back) : PK_F(l, iframe_previous);
    if (!pk_field_ok(next)) {
        f = 0;
        truncated = "the layout has no frame chain";
    }
    char func[NAME_CAP], file[NAME_CAP * 4];
    /* Brent's cycle check: a frame chain that loops (corrupt) would repeat its locals up to
       PK_FRAMES_MAX_DEPTH times */
    uint64_t saved = 0, power = 1, steps = 0;
    int depth = 0;
    for (; f; depth++, --*budget) {
        if (!aligned(f)) {
            truncated = "a frame pointer is misaligned";
            break;
        }
        if (f == saved) {
            truncated = "the frame chain loops";
            break;
        }
        if (depth >= PK_FRAMES_MAX_DEPTH) {
            truncated = "more frames than pypeek reads per thread";
            break;
        }
        if (!*budget) {
            truncated = "more frames than pypeek reads for all threads";
            break;
        }
        if (++steps == power) {
            saved = f;
            power *= 2;
            steps = 0;
        }
        uint64_t code = 0;
        if (legacy)
            pk_mem_read_u64(m, f + PK_OFF(l, frame_code), &code);
        else
            code = iframe_code(m, l, f);
        /* entry frames (3.12+) hold no code, or are owned by the C stack: skipped */
        if (is_code(m, t, code) && !(!legacy && internal_frame(m, l, f))) {
            func_name_of(m, l, code, func, sizeof func);
            struct pk_frame_visit fv = *tv;
            fv.kind = PK_FE_FRAME;
            fv.func = func;
            fv.code = code;
            fv.line = -1;
            if (flags & PK_FW_LINES) {
                frame_file(m, l, code, file, sizeof file);
                fv.file = file;
                fv.line = frame_line(m, l, f, legacy, code);
                fv.entry = eval_entry(m, l, f, legacy, next);
            }
            int rc = fn(&fv, arg);
            if (rc == 0 && (flags & PK_FW_LOCALS))
                rc = pk_frame_locals(m, t, legacy ? 0 : f, legacy ? f : 0, -1, fn, arg);
            if (rc == -PK_E_NO_PROCESS || rc > 0) return rc;
        } else if (legacy) {
            truncated = "a frame without a code object";
            break;
        }
        if (pk_mem_read_u64(m, f + (uint64_t)next.off, &f) < 0) {
            truncated = "a frame is unreadable";
            break;
        }
    }
    if (!(flags & PK_FW_LINES)) return 0;
    struct pk_frame_visit ev = *tv;
    ev.kind = PK_FE_THREAD_END;
    ev.truncated = truncated;
    int rc = fn(&ev, arg);
    return rc == -PK_E_NO_PROCESS || rc > 0 ? rc : 0;
}

int pk_frames_walk(struct pk_mem *m, const struct pk_target *t, uint64_t interp, pk_frame_fn fn,
                   void *arg)
{
    return pk_frames_walk_ex(m, t, interp, PK_FW_LOCALS, fn, arg);
}

int pk_frames_walk_ex(struct pk_mem *m, const struct pk_target *t, uint64_t interp, unsigned flags,
                      pk_frame_fn fn, void *arg)
{
    const struct pk_layout *l = &t->layout;
    uint64_t ts = 0;
    if (PK_HAS(l, interp_threads_head))
        pk_mem_read_u64(m, interp + PK_OFF(l, interp_threads_head), &ts);
    else if (PK_HAS(l, interp_tstate_head))
        pk_mem_read_u64(m, interp + PK_OFF(l, interp_tstate_head), &ts);
    if (!PK_HAS(l, tstate_next)) return 0;
    uint64_t *seen = malloc(PK_FRAMES_MAX_THREADS * sizeof *seen);
    if (!seen) return -PK_E_INTERNAL;
    int rc = 0;
    /* Frames of all threads together: distinct thread states may share one long chain */
    uint64_t budget = PK_FRAMES_MAX_TOTAL;
    for (size_t n = 0; aligned(ts) && n < PK_FRAMES_MAX_THREADS; n++) {
        int dup = 0;
        for (size_t k = 0; k < n && !dup; k++)
            dup = seen[k] == ts;
        if (dup) break; /* a cycle in the thread list */
        seen[n] = ts;
        struct pk_frame_visit tv = {.kind = PK_FE_THREAD, .tstate = ts};
        if (PK_HAS(l, tstate_thread_id))
            pk_mem_read_u64(m, ts + PK_OFF(l, tstate_thread_id), &tv.ident);
        if (PK_HAS(l, tstate_native_thread_id))
            pk_mem_read_u64(m, ts + PK_OFF(l, tstate_native_thread_id), &tv.native_tid);
        tv.native = PK_HAS(l, tstate_native_thread_id);
        tv.thread_id = tv.native ? tv.native_tid : tv.ident;
        if ((rc = fn(&tv, arg)) != 0) break;
        if ((rc = walk_thread(m, t, ts, &tv, flags, fn, arg, &budget)) != 0) break;
        if (pk_mem_read_u64(m, ts + PK_OFF(l, tstate_next), &ts) < 0) break;
    }
    free(seen);
    return rc;
}
