/*
 * test_render.c — the headless renderer (EGL surfaceless on the CPU: no display, no GPU), the
 * cameras of the shipped models, the frame overlay and the GIF encoder (decoded by an
 * independent LZW decoder written here).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actor/env.h"
#include "actor/gif.h"
#include "actor/overlay.h"
#include "actor/render.h"
#include "tests/harness.h"

// ---- an independent GIF reader: the frames' palette indices ------------------------------

struct gif_in {
    const uint8_t *p, *end;
    int w, h;
    int frames;
    int delay;
};

// decode one LZW image (after its code size byte) into out (n indices); false on any error
static bool lzw_decode(struct gif_in *g, int min_code, uint8_t *out, size_t n)
{
    /* gather the sub-blocks */
    uint8_t *data = malloc((size_t)(g->end - g->p));
    size_t len = 0;
    while (g->p < g->end && *g->p) {
        int k = *g->p++;
        if (g->end - g->p < k)
            break;
        memcpy(data + len, g->p, (size_t)k);
        len += (size_t)k;
        g->p += k;
    }
    g->p++; /* block terminator */
    static uint16_t prefix[4096];
    static uint8_t suffix[4096], stack[4097];
    int clear = 1 << min_code, width = min_code + 1, next = clear + 2, prev = -1;
    uint8_t first = 0;
    size_t bit = 0, o = 0;
    bool ok = false;
    while (bit + (size_t)width <= len * 8) {
        int code = 0;
        for (int i = 0; i < width; i++, bit++)
            code |= (data[bit / 8] >> (bit % 8) & 1) << i;
        if (code == clear) {
            width = min_code + 1, next = clear + 2, prev = -1;
            continue;
        }
        if (code == clear + 1) {
            ok = o == n;
            break;
        }
        int sp = 0, c = code;
        if (code > next || (code == next && prev < 0))
            break;
        if (code == next) { /* the KwKwK case */
            stack[sp++] = first;
            c = prev;
        }
        while (c >= clear) {
            stack[sp++] = suffix[c];
            c = prefix[c];
        }
        stack[sp++] = (uint8_t)c;
        first = (uint8_t)c;
        while (sp > 0 && o < n)
            out[o++] = stack[--sp];
        if (prev >= 0 && next < 4096) {
            prefix[next] = (uint16_t)prev;
            suffix[next] = first;
            next++;
            if (next == (1 << width) && width < 12)
                width++;
        }
        prev = code;
    }
    free(data);
    return ok;
}

// read the header; then each frame with gif_frame; false on a format error
static bool gif_open(struct gif_in *g, const uint8_t *buf, size_t len)
{
    memset(g, 0, sizeof(*g));
    if (len < 13 + 768 || memcmp(buf, "GIF89a", 6) || buf[10] != 0xf7)
        return false;
    g->w = buf[6] | buf[7] << 8;
    g->h = buf[8] | buf[9] << 8;
    g->p = buf + 13 + 768;
    g->end = buf + len;
    return true;
}

// the next frame's indices into out (w * h); 1 frame, 0 at the trailer, -1 on an error
static int gif_frame(struct gif_in *g, uint8_t *out)
{
    while (g->p < g->end) {
        uint8_t b = *g->p++;
        if (b == 0x3b)
            return 0;
        if (b == 0x21 && g->p < g->end) { /* extension: label, sub-blocks */
            uint8_t label = *g->p++;
            if (label == 0xf9 && g->end - g->p >= 5)
                g->delay = g->p[2] | g->p[3] << 8;
            while (g->p < g->end && *g->p)
                g->p += *g->p + 1;
            g->p++;
            continue;
        }
        if (b != 0x2c || g->end - g->p < 10)
            return -1;
        int w = g->p[4] | g->p[5] << 8, h = g->p[6] | g->p[7] << 8, min_code = g->p[9];
        g->p += 10;
        if (w != g->w || h != g->h || min_code != 8)
            return -1;
        g->frames++;
        return lzw_decode(g, min_code, out, (size_t)w * h) ? 1 : -1;
    }
    return -1;
}

// ---- tests -------------------------------------------------------------------------------

static void test_gif_roundtrip(void)
{
    /* 3 frames at 2x downscale: a gradient, noise (fills and clears the code table), flat */
    int W = 150, H = 100, S = 2;
    uint8_t *rgb = malloc((size_t)W * S * H * S * 3 * 3);
    uint8_t *got = malloc((size_t)W * H);
    uint32_t x = 12345;
    for (int f = 0; f < 3; f++)
        for (int i = 0; i < W * S * H * S * 3; i++) {
            x = x * 1103515245u + 12345u;
            uint8_t v = f == 0 ? (uint8_t)(i % (W * S * 3) / 3) : f == 1 ? (uint8_t)(x >> 24) : 90;
            rgb[(size_t)f * W * S * H * S * 3 + (size_t)i] = v;
        }
    struct gif *g = gif_new(W, H, 4);
    T_CHECK(g != NULL);
    if (!g)
        return;
    for (int f = 0; f < 3; f++)
        T_EQ_INT(gif_add(g, rgb + (size_t)f * W * S * H * S * 3, S), 0);
    T_EQ_INT(gif_add(g, rgb, 0), -EINVAL);
    size_t len;
    const uint8_t *b = gif_bytes(g, &len);
    T_CHECK(b != NULL && len > 800);
    T_EQ_INT(gif_add(g, rgb, S), -EINVAL); /* finished */
    struct gif_in in;
    T_CHECK(b && gif_open(&in, b, len));
    T_EQ_INT(in.w, W);
    T_EQ_INT(in.h, H);
    for (int f = 0; b && f < 3; f++) {
        T_EQ_INT(gif_frame(&in, got), 1);
        /* reference: the mean of each 2 x 2 block, then the colour cube */
        const uint8_t *src = rgb + (size_t)f * W * S * H * S * 3;
        long bad = 0;
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                int s[3] = {0, 0, 0};
                for (int k = 0; k < 12; k++)
                    s[k % 3] += src[((size_t)(y * S + k / 6) * W * S + (size_t)xx * S) * 3 + k % 6];
                uint8_t idx = gif_palette_index((uint8_t)(s[0] / 4), (uint8_t)(s[1] / 4),
                                                (uint8_t)(s[2] / 4));
                bad += got[(size_t)y * W + xx] != idx;
            }
        T_CHECK_MSG(bad == 0, "frame %d: %ld pixels differ", f, bad);
    }
    T_EQ_INT(in.delay, 4);
    T_EQ_INT(b ? gif_frame(&in, got) : -1, 0); /* the trailer */
    T_CHECK(gif_new(0, 5, 4) == NULL && gif_new(5, 5, 0) == NULL);
    gif_destroy(&g);
    T_CHECK(g == NULL);
    gif_destroy(&g);
    free(rgb);
    free(got);
    T_EQ_INT(gif_palette_index(255, 255, 255), 215);
    T_EQ_INT(gif_palette_index(0, 0, 0), 0);
    T_EQ_INT(gif_palette_index(255, 0, 0), 180);
}

/* at most GIF_MAX_FPS frames per second of simulated time, each shown for stride / fps */
static void test_gif_timing(void)
{
    static const int cases[][3] = {{20, 1, 5}, {25, 1, 4}, {125, 5, 4}, {500, 20, 4}, {1, 1, 100}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int stride, delay;
        gif_timing(cases[i][0], &stride, &delay);
        T_CHECK_MSG(stride == cases[i][1] && delay == cases[i][2], "fps %d: stride %d delay %d",
                    cases[i][0], stride, delay);
    }
}

static void test_overlay(void)
{
    int W = 80, H = 30;
    uint8_t *rgb = calloc((size_t)W * H * 3, 1);
    overlay_text(rgb, W, H, 10, 5, 1, "STEP 12");
    int wtext = overlay_text_width("STEP 12", 1);
    T_EQ_INT(wtext, 7 * 6 - 1);
    long white = 0, outside = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = rgb + ((size_t)y * W + x) * 3;
            bool in = x >= 9 && x < 10 + wtext + 1 && y >= 4 && y < 5 + 8;
            white += p[0] == 255;
            outside += !in && p[0] != 0;
        }
    T_CHECK_MSG(white > 40 && white < 7 * 35, "%ld white pixels", white);
    T_EQ_INT(outside, 0);
    overlay_text(rgb, W, H, W - 3, H - 3, 3, "CLIPPED 999"); /* off the edge: no crash */
    free(rgb);
}

static struct env_model *load(const char *task)
{
    char err[512];
    struct env_model *m = env_model_load(task, NULL, err, sizeof(err));
    T_CHECK_MSG(m != NULL, "%s", err);
    return m;
}

static double frame_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d += abs(a[i] - b[i]);
    return d / (double)n;
}

static void test_render_hopper(void)
{
    struct env_model *m = load("hopper");
    if (!m)
        return;
    const mjModel *mj = env_model_mj(m);
    char err[512];
    T_EQ_INT(render_camera_id(mj, "track", err, sizeof(err)), 0);
    T_EQ_INT(render_camera_id(mj, "default", err, sizeof(err)), 0);
    T_EQ_INT(render_camera_id(mj, "free", err, sizeof(err)), -1);
    T_EQ_INT(render_camera_id(mj, "nosuch", err, sizeof(err)), -ENOENT);
    T_CHECK_MSG(strstr(err, "track") != NULL, "%s", err);
    T_CHECK(render_new(mj, 0, 10, err, sizeof(err)) == NULL && strstr(err, "1.."));
    /* wider than the model's offscreen buffer (480): raised for this renderer */
    int W = 640, H = 36;
    struct render *r = render_new(mj, W, H, err, sizeof(err));
    T_CHECK_MSG(r != NULL, "%s", err);
    struct env *e = env_new(m, 1, 0, 1000);
    size_t n = (size_t)W * H * 3;
    uint8_t *a = malloc(n), *b = malloc(n), *c = malloc(n);
    if (r && e && a && b && c) {
        T_EQ_INT(env_reset(e, NULL), 0);
        T_EQ_INT(render_env(r, e, 0, a), 0);
        T_EQ_INT(render_env(r, e, 0, b), 0);
        T_CHECK_MSG(t_contrast(a, n) > 100, "spread %d", t_contrast(a, n));
        T_CHECK(memcmp(a, b, n) == 0); /* the same state, the same picture */
        float act[3] = {1, -1, 1};
        for (int i = 0; i < 30; i++)
            env_step(e, act, 3, NULL, NULL);
        T_EQ_INT(render_env(r, e, 0, b), 0);
        T_CHECK_MSG(frame_diff(a, b, n) > 0.2, "diff %.3f", frame_diff(a, b, n));
        T_EQ_INT(render_env(r, e, -1, c), 0); /* free camera: another view */
        T_CHECK(frame_diff(b, c, n) > 1);
        memset(c, 7, n);
        T_EQ_INT(render_env(r, e, 1, c), -EINVAL);
        T_EQ_INT(render_env(r, e, -2, c), -EINVAL);
        T_CHECK(c[0] == 7 && c[n - 1] == 7);
    }
    free(a);
    free(b);
    free(c);
    env_destroy(&e);
    render_destroy(&r);
    T_CHECK(r == NULL);
    render_destroy(&r);
    env_model_destroy(&m);
}

// both cameras of the table-top models, two renderers of two models in one thread
static void test_render_tabletop(void)
{
    struct env_model *m = load("lift"), *h = load("halfcheetah");
    if (!m || !h)
        goto out;
    char err[512];
    int front = render_camera_id(env_model_mj(m), "front", err, sizeof(err));
    int wrist = render_camera_id(env_model_mj(m), "wrist", err, sizeof(err));
    T_CHECK(front >= 0 && wrist >= 0 && front != wrist);
    T_EQ_INT(render_camera_id(env_model_mj(m), "default", err, sizeof(err)), front);
    int W = 84, H = 84;
    struct render *r = render_new(env_model_mj(m), W, H, err, sizeof(err));
    struct render *r2 = render_new(env_model_mj(h), W, H, err, sizeof(err));
    struct env *e = env_new(m, 3, 0, 200), *e2 = env_new(h, 3, 0, 1000);
    size_t n = (size_t)W * H * 3;
    uint8_t *a = malloc(n), *b = malloc(n), *c = malloc(n);
    if (r && r2 && e && e2 && a && b && c && front >= 0 && wrist >= 0) {
        env_reset(e, NULL);
        env_reset(e2, NULL);
        T_EQ_INT(render_env(r, e, front, a), 0);
        T_EQ_INT(render_env(r2, e2, 0, c), 0);
        T_EQ_INT(render_env(r, e, wrist, b), 0);
        T_CHECK(t_contrast(a, n) > 80 && t_contrast(b, n) > 80 && t_contrast(c, n) > 80);
        T_CHECK(frame_diff(a, b, n) > 5 && frame_diff(a, c, n) > 5);
        T_EQ_INT(render_env(r, e, front, b), 0);
        T_CHECK(memcmp(a, b, n) == 0); /* switching contexts leaves the picture alone */
    }
    free(a);
    free(b);
    free(c);
    env_destroy(&e);
    env_destroy(&e2);
    render_destroy(&r);
    render_destroy(&r2);
out:
    env_model_destroy(&m);
    env_model_destroy(&h);
}

// the look-only additions left the tasks' sizes alone
static void test_dims_unchanged(void)
{
    const char *tasks[] = {"hopper", "walker2d", "halfcheetah", "lift", "stack", "peg"};
    const int obs[] = {11, 17, 17, 17, 27, 20}, act[] = {3, 6, 6, 4, 4, 4};
    for (int i = 0; i < 6; i++) {
        struct env_model *m = load(tasks[i]);
        if (!m)
            continue;
        T_EQ_INT(env_model_obs_dim(m), obs[i]);
        T_EQ_INT(env_model_act_dim(m), act[i]);
        T_CHECK(env_model_mj(m)->ncam >= 1);
        env_model_destroy(&m);
    }
}

int main(void)
{
    T_RUN(test_gif_roundtrip);
    T_RUN(test_gif_timing);
    T_RUN(test_overlay);
    T_RUN(test_dims_unchanged);
    T_RUN(test_render_hopper);
    T_RUN(test_render_tabletop);
    return T_DONE("render");
}
