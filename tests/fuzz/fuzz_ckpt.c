/*
 * fuzz_ckpt.c — libFuzzer target: the container reader common/ckpt.c (checkpoints, datasets,
 * policies and replays all start here).
 *
 * Input: a mode byte (fuzz.h: bit 0 fixes size and CRC) and the file. The expected kind is the
 * file's own, so every kind is parsed; every section the file names is then looked up and read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TABLE_OFF 48 /* section table: {name[48], offset u64, size u64} per entry */
#define ENTRY 64

// look up the names in the (fixed-up) table; each present section must read back exactly
static void read_sections(const struct ckpt *c, const uint8_t *file, size_t len)
{
    for (size_t off = TABLE_OFF; off + ENTRY <= len && off < TABLE_OFF + 8 * ENTRY; off += ENTRY) {
        char name[CKPT_NAME_MAX];
        memcpy(name, file + off, sizeof(name));
        name[sizeof(name) - 1] = 0;
        size_t n = 0;
        const uint8_t *p = ckpt_get(c, name, &n);
        if (!p)
            continue;
        uint8_t *dst = malloc(n ? n : 1);
        char err[256];
        if (!dst)
            return;
        if (ckpt_read(c, name, dst, n, err, sizeof(err)) != 0 || memcmp(dst, p, n) != 0)
            fuzz_fail("ckpt_read differs from ckpt_get");
        if (n && ckpt_read(c, name, dst, n - 1, err, sizeof(err)) != -EPROTO)
            fuzz_fail("ckpt_read accepted a wrong size");
        free(dst);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_container_file(data, size);
    if (!path || size < 1 + 8)
        return 0;
    char kind[5] = {0};
    memcpy(kind, data + 1 + 4, 4);
    if (strlen(kind) != 4)
        memcpy(kind, "CKPT", 4);
    char err[256];
    struct ckpt *c = ckpt_load(path, kind, 0, err, sizeof(err));
    if (!c)
        return 0;
    uint64_t wrong = ckpt_layout_hash(c) == 1 ? 2 : ckpt_layout_hash(c) ^ 1; // 0: not checked
    struct ckpt *w = ckpt_load(path, kind, wrong, err, sizeof(err));
    if (w)
        fuzz_fail("a wrong layout hash was accepted");
    ckpt_destroy(&w);
    read_sections(c, data + 1, size - 1);
    ckpt_destroy(&c);
    if (c)
        fuzz_fail("ckpt_destroy left the pointer set");
    return 0;
}
