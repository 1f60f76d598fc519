/* Compressed core files (systemd-coredump's .zst, .xz, .lz4): streamed through libzstd, liblzma
   or liblz4 into an unnamed temporary file (sparse where the core is zeros), never held in
   memory whole. */
#include "attach/core_unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#define IN_BYTES ((size_t)1 << 20)
#define OUT_BYTES ((size_t)4 << 20)
#define PAGE 4096

enum format { PLAIN, ZSTD, XZ, LZ4 };

struct sink {
    int fd;
    uint64_t written; /* logical size so far */
    uint64_t cap;     /* refuse to grow past this (free space, decompression bombs) */
    const char *name;
};

static enum format sniff(int fd)
{
    unsigned char m[6] = {0};
    if (pread(fd, m, sizeof m, 0) != (ssize_t)sizeof m) return PLAIN;
    if (!memcmp(m, "\x28\xb5\x2f\xfd", 4)) return ZSTD;
    if (!memcmp(m,
                "\xfd"
                "7zXZ\0",
                6))
        return XZ;
    if (!memcmp(m, "\x04\x22\x4d\x18", 4)) return LZ4;
    return PLAIN;
}

/* Appends len bytes; whole zero pages become holes. */
static int sink_write(struct sink *s, const unsigned char *p, size_t len, struct pk_err *e)
{
    if (len > s->cap - s->written)
        return pk_fail(e, PK_E_BAD_FILE,
                       "%s unpacks to more than %llu bytes (the free space for its temporary "
                       "copy): not unpacked",
                       s->name, (unsigned long long)s->cap);
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < PAGE ? len - off : PAGE;
        static const unsigned char zeros[PAGE];
        if (n == PAGE && memcmp(p + off, zeros, PAGE) == 0) {
            off += n;
            continue;
        }
        if (pwrite(s->fd, p + off, n, (off_t)(s->written + off)) != (ssize_t)n)
            return pk_fail(e, PK_E_BAD_FILE, "writing the unpacked copy of %s: %s", s->name,
                           strerror(errno));
        off += n;
    }
    s->written += len;
    return 0;
}

static int corrupt(const struct sink *s, const char *lib, const char *why, struct pk_err *e)
{
    return pk_fail(e, PK_E_BAD_FILE, "%s: %s cannot unpack it (%s)", s->name, lib, why);
}

static int unpack_zstd(int in, struct sink *s, unsigned char *ib, unsigned char *ob,
                       struct pk_err *e)
{
    ZSTD_DStream *z = ZSTD_createDStream();
    if (!z) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    ZSTD_initDStream(z);
    size_t last = 0;
    int r = 0;
    ssize_t got;
    while (r == 0 && (got = read(in, ib, IN_BYTES)) > 0) {
        ZSTD_inBuffer zi = {ib, (size_t)got, 0};
        while (r == 0 && zi.pos < zi.size) {
            ZSTD_outBuffer zo = {ob, OUT_BYTES, 0};
            last = ZSTD_decompressStream(z, &zo, &zi);
            if (ZSTD_isError(last)) r = corrupt(s, "libzstd", ZSTD_getErrorName(last), e);
            if (r == 0) r = sink_write(s, ob, zo.pos, e);
        }
    }
    if (r == 0 && last != 0) r = corrupt(s, "libzstd", "the stream ends early: truncated", e);
    ZSTD_freeDStream(z);
    return r;
}

static int unpack_xz(int in, struct sink *s, unsigned char *ib, unsigned char *ob, struct pk_err *e)
{
    lzma_stream x = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = 0;
    lzma_ret lr = LZMA_OK;
    while (r == 0 && lr == LZMA_OK) {
        if (x.avail_in == 0) {
            ssize_t got = read(in, ib, IN_BYTES);
            x.next_in = ib;
            x.avail_in = got > 0 ? (size_t)got : 0;
        }
        lzma_action act = x.avail_in == 0 ? LZMA_FINISH : LZMA_RUN;
        x.next_out = ob;
        x.avail_out = OUT_BYTES;
        lr = lzma_code(&x, act);
        if (lr != LZMA_OK && lr != LZMA_STREAM_END)
            r = corrupt(s, "liblzma", lr == LZMA_BUF_ERROR ? "truncated" : "corrupt data", e);
        if (r == 0) r = sink_write(s, ob, OUT_BYTES - x.avail_out, e);
    }
    lzma_end(&x);
    return r;
}

static int unpack_lz4(int in, struct sink *s, unsigned char *ib, unsigned char *ob,
                      struct pk_err *e)
{
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = 0;
    size_t hint = 1;
    ssize_t got;
    while (r == 0 && hint != 0 && (got = read(in, ib, IN_BYTES)) > 0) {
        size_t pos = 0;
        while (r == 0 && pos < (size_t)got && hint != 0) {
            size_t isz = (size_t)got - pos, osz = OUT_BYTES;
            hint = LZ4F_decompress(d, ob, &osz, ib + pos, &isz, NULL);
            if (LZ4F_isError(hint)) r = corrupt(s, "liblz4", LZ4F_getErrorName(hint), e);
            pos += isz;
            if (r == 0) r = sink_write(s, ob, osz, e);
        }
    }
    if (r == 0 && hint != 0) r = corrupt(s, "liblz4", "the frame ends early: truncated", e);
    LZ4F_freeDecompressionContext(d);
    return r;
}

int pk_core_unpack(int in, const char *name, int *out, struct pk_err *e)
{
    *out = -1;
    enum format f = sniff(in);
    if (f == PLAIN) return 0;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/var/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return pk_fail(e, PK_E_BAD_FILE,
                       "%s is compressed and no temporary file can be made in "
                       "%s to unpack it: %s (set TMPDIR)",
                       name, dir, strerror(errno));
    struct statvfs vs;
    uint64_t cap = UINT64_MAX;
    if (fstatvfs(fd, &vs) == 0) cap = (uint64_t)vs.f_bavail * vs.f_frsize / 10 * 9;
    struct sink s = {fd, 0, cap, name};
    unsigned char *ib = malloc(IN_BYTES), *ob = malloc(OUT_BYTES);
    int r = !ib || !ob ? pk_fail(e, PK_E_INTERNAL, "out of memory") : 0;
    if (r == 0 && lseek(in, 0, SEEK_SET) < 0)
        r = pk_fail(e, PK_E_BAD_FILE, "%s: %s", name, strerror(errno));
    if (r == 0)
        r = f == ZSTD ? unpack_zstd(in, &s, ib, ob, e)
            : f == XZ ? unpack_xz(in, &s, ib, ob, e)
                      : unpack_lz4(in, &s, ib, ob, e);
    if (r == 0 && ftruncate(fd, (off_t)s.written) < 0)
        r = pk_fail(e, PK_E_BAD_FILE, "sizing the unpacked copy of %s: %s", name, strerror(errno));
    free(ib);
    free(ob);
    if (r < 0) {
        close(fd);
        return r;
    }
    *out = fd;
    return 1;
}
