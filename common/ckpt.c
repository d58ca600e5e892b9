/*
 * ckpt.c — write and verify the rldt file container (see ckpt.h for the layout).
 */
#include "common/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/afile.h"
#include "common/hash.h"

#define HEADER_SIZE 48
#define ENTRY_SIZE (CKPT_NAME_MAX + 16)
#define ALIGN 64
#define MAX_SECTIONS 4096

struct section {
    char name[CKPT_NAME_MAX];
    const void *data;
    uint64_t offset;
    uint64_t size;
};

struct ckpt_writer {
    char kind[4];
    uint64_t layout_hash;
    struct section *sec;
    int n, cap;
};

struct ckpt {
    uint8_t *bytes;
    size_t len;
    uint64_t layout_hash;
    struct section *sec;
    int n;
};

static void put_u32(uint8_t *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)p[i] << (8 * i);
    return x;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static uint64_t align_up(uint64_t x)
{
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

struct ckpt_writer *ckpt_writer_new(const char *kind, uint64_t layout_hash)
{
    if (!kind || strlen(kind) != 4)
        return NULL;
    struct ckpt_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    memcpy(w->kind, kind, 4);
    w->layout_hash = layout_hash;
    return w;
}

void ckpt_writer_destroy(struct ckpt_writer **pw)
{
    if (!pw || !*pw)
        return;
    free((*pw)->sec);
    free(*pw);
    *pw = NULL;
}

int ckpt_add(struct ckpt_writer *w, const char *name, const void *data, size_t size)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len >= CKPT_NAME_MAX || (size && !data) || w->n >= MAX_SECTIONS)
        return -EINVAL;
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->sec[i].name, name))
            return -EINVAL;
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        struct section *s = realloc(w->sec, (size_t)cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        w->sec = s;
        w->cap = cap;
    }
    struct section *s = &w->sec[w->n++];
    memset(s, 0, sizeof(*s));
    memcpy(s->name, name, len);
    s->data = data;
    s->size = size;
    return 0;
}

// write all of buf, feeding the running checksum
static int write_all(struct afile *a, const void *buf, size_t n, uint32_t *crc)
{
    *crc = hash_crc32c(*crc, buf, n);
    return afile_write(a, buf, n);
}

static int write_body(struct ckpt_writer *w, struct afile *a)
{
    uint64_t off = align_up(HEADER_SIZE + (uint64_t)w->n * ENTRY_SIZE);
    for (int i = 0; i < w->n; i++) {
        w->sec[i].offset = off;
        off = align_up(off + w->sec[i].size);
    }
    uint64_t total = off + 4;
    uint8_t head[HEADER_SIZE] = {0};
    memcpy(head, "RLDT", 4);
    memcpy(head + 4, w->kind, 4);
    put_u32(head + 8, CKPT_FORMAT_VERSION);
    put_u32(head + 12, (uint32_t)w->n);
    put_u64(head + 16, w->layout_hash);
    put_u64(head + 24, total);
    uint32_t crc = 0;
    int rc = write_all(a, head, HEADER_SIZE, &crc);
    for (int i = 0; i < w->n && !rc; i++) {
        uint8_t e[ENTRY_SIZE] = {0};
        memcpy(e, w->sec[i].name, CKPT_NAME_MAX);
        put_u64(e + CKPT_NAME_MAX, w->sec[i].offset);
        put_u64(e + CKPT_NAME_MAX + 8, w->sec[i].size);
        rc = write_all(a, e, ENTRY_SIZE, &crc);
    }
    static const uint8_t zeros[ALIGN];
    uint64_t pos = HEADER_SIZE + (uint64_t)w->n * ENTRY_SIZE;
    for (int i = 0; i < w->n && !rc; i++) {
        rc = write_all(a, zeros, w->sec[i].offset - pos, &crc);
        if (!rc)
            rc = write_all(a, w->sec[i].data, w->sec[i].size, &crc);
        pos = w->sec[i].offset + w->sec[i].size;
    }
    if (!rc)
        rc = write_all(a, zeros, total - 4 - pos, &crc);
    uint8_t tail[4];
    put_u32(tail, crc);
    uint32_t dummy = 0;
    if (!rc)
        rc = write_all(a, tail, 4, &dummy);
    return rc;
}

int ckpt_writer_save(struct ckpt_writer *w, const char *path, char *err, size_t errlen)
{
    struct afile a;
    int rc = afile_open(&a, path, 0644);
    if (!rc) {
        rc = write_body(w, &a);
        if (rc)
            afile_abort(&a);
        else
            rc = afile_commit(&a);
    }
    if (rc)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    return rc;
}

// ---- loading -----------------------------------------------------------------------------

static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto out_close;
    }
    buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory (%lld bytes)", path, (long long)st.st_size);
        goto out_close;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    *len = got;
out_close:
    close(fd);
    return buf;
}

static int parse(struct ckpt *c, const char *path, const char *kind, char *err, size_t errlen)
{
    const uint8_t *b = c->bytes;
    if (c->len < HEADER_SIZE + 4 || memcmp(b, "RLDT", 4) != 0) {
        snprintf(err, errlen, "%s: not an rldt file (bad magic or too short)", path);
        return -EPROTO;
    }
    if (memcmp(b + 4, kind, 4) != 0) {
        snprintf(err, errlen, "%s: is a '%.4s' file, expected '%.4s'", path, (const char *)b + 4,
                 kind);
        return -EPROTO;
    }
    uint32_t version = get_u32(b + 8);
    if (version != CKPT_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: format version %u, this build reads version %d", path, version,
                 CKPT_FORMAT_VERSION);
        return -EPROTO;
    }
    uint64_t total = get_u64(b + 24);
    if (total != c->len) {
        snprintf(err, errlen, "%s: truncated or padded: %zu bytes, header says %llu", path, c->len,
                 (unsigned long long)total);
        return -EPROTO;
    }
    if (hash_crc32c(0, b, c->len - 4) != get_u32(b + c->len - 4)) {
        snprintf(err, errlen, "%s: checksum mismatch (file is corrupted)", path);
        return -EPROTO;
    }
    uint32_t n = get_u32(b + 12);
    if (n > MAX_SECTIONS || HEADER_SIZE + (uint64_t)n * ENTRY_SIZE > c->len - 4) {
        snprintf(err, errlen, "%s: bad section count %u", path, n);
        return -EPROTO;
    }
    c->layout_hash = get_u64(b + 16);
    c->sec = calloc(n ? n : 1, sizeof(*c->sec));
    if (!c->sec) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + HEADER_SIZE + (size_t)i * ENTRY_SIZE;
        struct section *s = &c->sec[i];
        memcpy(s->name, e, CKPT_NAME_MAX);
        s->name[CKPT_NAME_MAX - 1] = 0;
        s->offset = get_u64(e + CKPT_NAME_MAX);
        s->size = get_u64(e + CKPT_NAME_MAX + 8);
        if (s->offset > c->len - 4 || s->size > c->len - 4 - s->offset) {
            snprintf(err, errlen, "%s: section '%s' lies outside the file", path, s->name);
            return -EPROTO;
        }
        if (s->offset % ALIGN) { // readers use payloads as float/u64 arrays in place
            snprintf(err, errlen, "%s: section '%s' is not %d-byte aligned", path, s->name, ALIGN);
            return -EPROTO;
        }
        s->data = b + s->offset;
    }
    c->n = (int)n;
    return 0;
}

struct ckpt *ckpt_load(const char *path, const char *kind, uint64_t layout_hash, char *err,
                       size_t errlen)
{
    struct ckpt *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->bytes = read_file(path, &c->len, err, errlen);
    if (!c->bytes || parse(c, path, kind, err, errlen) < 0)
        goto err_destroy;
    if (layout_hash && c->layout_hash != layout_hash) {
        snprintf(err, errlen,
                 "%s: network layout differs (file %016llx, expected %016llx): written for "
                 "another network shape or task",
                 path, (unsigned long long)c->layout_hash, (unsigned long long)layout_hash);
        goto err_destroy;
    }
    return c;
err_destroy:
    ckpt_destroy(&c);
    return NULL;
}

void ckpt_destroy(struct ckpt **pc)
{
    if (!pc || !*pc)
        return;
    free((*pc)->sec);
    free((*pc)->bytes);
    free(*pc);
    *pc = NULL;
}

uint64_t ckpt_layout_hash(const struct ckpt *c)
{
    return c->layout_hash;
}

const void *ckpt_get(const struct ckpt *c, const char *name, size_t *size)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->sec[i].name, name)) {
            if (size)
                *size = c->sec[i].size;
            return c->sec[i].data;
        }
    return NULL;
}

int ckpt_read(const struct ckpt *c, const char *name, void *dst, size_t size, char *err,
              size_t errlen)
{
    size_t have;
    const void *p = ckpt_get(c, name, &have);
    if (!p) {
        snprintf(err, errlen, "section '%s' is missing", name);
        return -ENOENT;
    }
    if (have != size) {
        snprintf(err, errlen, "section '%s' has %zu bytes, expected %zu", name, have, size);
        return -EPROTO;
    }
    memcpy(dst, p, size);
    return 0;
}
