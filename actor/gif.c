/*
 * gif.c — see gif.h. LZW: minimum code size 8 (clear 256, end 257, first string 258); codes
 * grow from 9 to 12 bits as the table fills; a full table is reset with a clear code. The
 * string table is a trie: next[code][byte] = the code of string(code) + byte, 0 = absent.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "actor/gif.h"

#define LZW_CLEAR 256
#define LZW_END 257
#define LZW_FIRST 258
#define LZW_LIMIT 4095 /* codes stay below this: a table reaching it is cleared */

struct gif {
    int w, h, delay;
    int frames;
    bool done;
    uint8_t *buf; /* the file so far */
    size_t len, cap;
    uint8_t *idx;   /* (h, w) palette indices of the frame being added */
    uint16_t *next; /* LZW trie: (LZW_LIMIT + 1, 256) */
    /* bit writer into 255-byte data sub-blocks */
    uint32_t acc;
    int nbits;
    uint8_t block[255];
    int nblock;
};

static int put(struct gif *g, const void *p, size_t n)
{
    if (g->len + n > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < g->len + n)
            cap *= 2;
        uint8_t *b = realloc(g->buf, cap);
        if (!b)
            return -ENOMEM;
        g->buf = b;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, p, n);
    g->len += n;
    return 0;
}

static int put16(struct gif *g, int v)
{
    uint8_t b[2] = {(uint8_t)(v & 0xff), (uint8_t)(v >> 8)};
    return put(g, b, 2);
}

uint8_t gif_palette_index(uint8_t r, uint8_t g, uint8_t b)
{
    int r6 = (r * 5 + 127) / 255, g6 = (g * 5 + 127) / 255, b6 = (b * 5 + 127) / 255;
    return (uint8_t)(r6 * 36 + g6 * 6 + b6);
}

// header, logical screen with the 256-entry global palette, looping extension
static int header(struct gif *g)
{
    uint8_t pal[256 * 3] = {0};
    for (int i = 0; i < 216; i++) {
        pal[3 * i] = (uint8_t)(i / 36 * 51);
        pal[3 * i + 1] = (uint8_t)(i / 6 % 6 * 51);
        pal[3 * i + 2] = (uint8_t)(i % 6 * 51);
    }
    /* flags 0xf7: global table present, 8 bits of colour resolution, 2^(7+1) entries */
    static const uint8_t screen_tail[3] = {0xf7, 0, 0};
    static const uint8_t loop[19] = {0x21, 0xff, 11,  'N', 'E', 'T', 'S', 'C', 'A', 'P',
                                     'E',  '2',  '.', '0', 3,   1,   0,   0,   0};
    int rc = put(g, "GIF89a", 6);
    rc = rc ? rc : put16(g, g->w);
    rc = rc ? rc : put16(g, g->h);
    rc = rc ? rc : put(g, screen_tail, 3);
    rc = rc ? rc : put(g, pal, sizeof(pal));
    return rc ? rc : put(g, loop, sizeof(loop));
}

struct gif *gif_new(int width, int height, int delay_cs)
{
    if (width < 1 || height < 1 || width > GIF_MAX_SIDE || height > GIF_MAX_SIDE || delay_cs < 1 ||
        delay_cs > 65535)
        return NULL;
    struct gif *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->w = width;
    g->h = height;
    g->delay = delay_cs;
    g->idx = malloc((size_t)width * height);
    g->next = malloc(sizeof(uint16_t) * (LZW_LIMIT + 1) * 256);
    if (!g->idx || !g->next || header(g) < 0)
        gif_destroy(&g);
    return g;
}

void gif_destroy(struct gif **pg)
{
    if (!pg || !*pg)
        return;
    free((*pg)->buf);
    free((*pg)->idx);
    free((*pg)->next);
    free(*pg);
    *pg = NULL;
}

// ---- LZW bit writer ----

static int flush_block(struct gif *g)
{
    if (g->nblock == 0)
        return 0;
    uint8_t n = (uint8_t)g->nblock;
    g->nblock = 0;
    int rc = put(g, &n, 1);
    return rc ? rc : put(g, g->block, n);
}

static int emit(struct gif *g, int code, int width)
{
    g->acc |= (uint32_t)code << g->nbits;
    g->nbits += width;
    while (g->nbits >= 8) {
        g->block[g->nblock++] = (uint8_t)(g->acc & 0xff);
        g->acc >>= 8;
        g->nbits -= 8;
        if (g->nblock == 255 && flush_block(g) < 0)
            return -ENOMEM;
    }
    return 0;
}

// the frame's indices as LZW code sub-blocks (without the leading code size byte)
static int lzw(struct gif *g)
{
    size_t n = (size_t)g->w * g->h;
    int width = 9, next = LZW_FIRST, rc = emit(g, LZW_CLEAR, width);
    memset(g->next, 0, sizeof(uint16_t) * (LZW_LIMIT + 1) * 256);
    int cur = g->idx[0];
    for (size_t i = 1; i < n && rc == 0; i++) {
        uint8_t k = g->idx[i];
        uint16_t *slot = &g->next[(size_t)cur * 256 + k];
        if (*slot) {
            cur = *slot;
            continue;
        }
        rc = emit(g, cur, width);
        if (next < LZW_LIMIT) {
            *slot = (uint16_t)next++;
            /* the decoder adds its entry one code later: widen once next exceeds the width */
            if (next > (1 << width) && width < 12)
                width++;
        } else {
            rc = rc ? rc : emit(g, LZW_CLEAR, width);
            memset(g->next, 0, sizeof(uint16_t) * (LZW_LIMIT + 1) * 256);
            width = 9;
            next = LZW_FIRST;
        }
        cur = k;
    }
    rc = rc ? rc : emit(g, cur, width);
    rc = rc ? rc : emit(g, LZW_END, width);
    if (rc == 0 && g->nbits > 0)
        rc = emit(g, 0, 8 - g->nbits); /* pad the last byte */
    return rc ? rc : flush_block(g);
}

// palette indices of the frame, each scale x scale block averaged
static void quantise(struct gif *g, const uint8_t *rgb, int scale)
{
    size_t sw = (size_t)g->w * scale;
    int area = scale * scale;
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            int sum[3] = {0, 0, 0};
            for (int dy = 0; dy < scale; dy++) {
                const uint8_t *p = rgb + (((size_t)y * scale + dy) * sw + (size_t)x * scale) * 3;
                for (int dx = 0; dx < scale * 3; dx++)
                    sum[dx % 3] += p[dx];
            }
            g->idx[(size_t)y * g->w + x] = gif_palette_index(
                (uint8_t)(sum[0] / area), (uint8_t)(sum[1] / area), (uint8_t)(sum[2] / area));
        }
}

int gif_add(struct gif *g, const uint8_t *rgb, int scale)
{
    if (scale < 1 || g->done)
        return -EINVAL;
    quantise(g, rgb, scale);
    /* graphic control: no transparency, delay; then the image descriptor (no local palette) */
    uint8_t gce[8] = {0x21, 0xf9, 4, 0, (uint8_t)(g->delay & 0xff), (uint8_t)(g->delay >> 8), 0, 0};
    uint8_t desc[10] = {0x2c,
                        0,
                        0,
                        0,
                        0,
                        (uint8_t)(g->w & 0xff),
                        (uint8_t)(g->w >> 8),
                        (uint8_t)(g->h & 0xff),
                        (uint8_t)(g->h >> 8),
                        0};
    uint8_t min_code = 8, end = 0;
    int rc = put(g, gce, sizeof(gce));
    rc = rc ? rc : put(g, desc, sizeof(desc));
    rc = rc ? rc : put(g, &min_code, 1);
    rc = rc ? rc : lzw(g);
    rc = rc ? rc : put(g, &end, 1);
    if (rc == 0)
        g->frames++;
    return rc;
}

const uint8_t *gif_bytes(struct gif *g, size_t *len)
{
    *len = 0;
    if (g->frames == 0)
        return NULL;
    if (!g->done) {
        uint8_t trailer = 0x3b;
        if (put(g, &trailer, 1) < 0)
            return NULL;
        g->done = true;
    }
    *len = g->len;
    return g->buf;
}

void gif_timing(int fps, int *stride, int *delay_cs)
{
    int k = fps > GIF_MAX_FPS ? (fps + GIF_MAX_FPS - 1) / GIF_MAX_FPS : 1;
    int d = (200 * k + fps) / (2 * fps);
    *stride = k;
    *delay_cs = d < 2 ? 2 : d;
}
