/*
 * test_pixpipe.c — pixel observations end to end in one process, with tiny budgets: the lift
 * task's envs pictured by the real renderer (actor/pixcam.c, 84x84 from the front camera) ->
 * segments recorded as an actor records them -> packed, decoded and validated -> the replay's
 * image ring -> a sampled batch -> random shift -> the image encoder in front of a flow policy,
 * trained by conditional flow matching on the stored action chunks. Checks: every stored image and
 * next image is bit for bit the camera's; the pictures are not blank and change as the arm
 * moves; pixel flow BC (the encoder in front of a flow policy's observation input, trained
 * through flow_backward_obs) lowers the flow-matching loss. And `rldt demo --pixels=1` records
 * demos with a picture per step and per episode end into a dataset. Skips (saying why) where EGL is
 * missing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/env.h"
#include "actor/pixcam.h"
#include "actor/vecenv.h"
#include "common/dataset.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/optim.h"
#include "common/rng.h"
#include "common/task.h"
#include "learner/replay.h"
#include "learner/shared.h"
#include "proto/wire.h"
#include "tests/harness.h"
#include "tests/spawn.h"

enum { S = 84, IB = S * S * 3, M = 2, SEG = 8, ROWS = 48, B = 16 };

static struct vecenv *venv;
static struct pixcam *cam;
static struct replay *rep;
static int O, D, P;                      /* obs floats, chunk floats, proprioception floats */
static uint8_t want[ROWS + M * SEG][IB]; /* the camera's image of each stored step */
static uint8_t want_next[ROWS + M * SEG][IB];
static long stored;

// pack the segment of b, decode (and validate) it, store it; keep the camera's images
static void ship(struct wire_segbuf *b, struct wire_decoder *dec, uint64_t traj)
{
    static uint8_t buf[4 << 20];
    struct wire_msg m = {.type = WIRE_SEGMENT}, out;
    m.segment = (struct wire_segment){.run_epoch = 1, .actor_id = 1, .seq = traj + 1};
    wire_segbuf_view(b, &m.segment);
    size_t len;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    char err[256] = "";
    int rc = wire_decode(dec, buf, len, &out, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "decode: %s", err);
    if (rc)
        return;
    T_EQ_INT(ingest_store(rep, &out.segment, traj, false), 0);
    for (uint32_t t = 0; t < b->T; t++, stored++) {
        memcpy(want[stored], b->images + (size_t)t * IB, IB);
        memcpy(want_next[stored], b->images + (size_t)(t + 1) * IB, IB);
    }
}

// act at random on M pictured envs, recording segments as actor.c does, until ROWS are stored
static void collect(void)
{
    struct wire_segbuf seg[M];
    struct wire_image_shape is = {S, S, 3};
    struct wire_decoder *dec = wire_decoder_new(4 << 20);
    struct rng g;
    rng_init(&g, 3, 3);
    uint64_t traj = 0;
    for (int i = 0; i < M; i++) {
        T_EQ_INT(wire_segbuf_init(&seg[i], (uint32_t)O, (uint32_t)D, SEG), 0);
        T_EQ_INT(wire_segbuf_set_image(&seg[i], &is), 0);
        wire_segbuf_start(&seg[i], vecenv_obs(venv) + (size_t)i * O, true);
        memcpy(wire_segbuf_last_image(&seg[i]), vecenv_images(venv) + (size_t)i * IB, IB);
    }
    float act[M * 64];
    while (stored < ROWS) {
        for (int j = 0; j < M * D; j++)
            act[j] = (float)rng_range(&g, -1, 1);
        T_EQ_INT(vecenv_step(venv, act, NULL), 0);
        const struct vecenv_result *res = vecenv_results(venv);
        for (int i = 0; i < M; i++) {
            bool done = res[i].done;
            const float *next = (done ? vecenv_final_obs(venv) : vecenv_obs(venv)) + (size_t)i * O;
            wire_segbuf_push(&seg[i], act + (size_t)i * D, (float)res[i].reward,
                             (uint32_t)res[i].steps, next, res[i].terminated,
                             res[i].truncated && !res[i].terminated);
            const uint8_t *src = done ? vecenv_final_images(venv) : vecenv_images(venv);
            memcpy(wire_segbuf_last_image(&seg[i]), src + (size_t)i * IB, IB);
            if (!wire_segbuf_ready(&seg[i]))
                continue;
            ship(&seg[i], dec, traj++);
            if (done)
                wire_segbuf_start(&seg[i], vecenv_obs(venv) + (size_t)i * O, true);
            else
                wire_segbuf_carry(&seg[i]);
            memcpy(wire_segbuf_last_image(&seg[i]), vecenv_images(venv) + (size_t)i * IB, IB);
        }
    }
    for (int i = 0; i < M; i++)
        wire_segbuf_fini(&seg[i]);
    wire_decoder_destroy(&dec);
}

// the replay's images are the camera's, bit for bit; pictures have contrast and change
static void test_images_exact(void)
{
    collect();
    T_EQ_INT(replay_size(rep), stored);
    static uint8_t img[IB], next[IB];
    int bad = 0, flat = 0;
    for (long k = 0; k < stored; k++) { /* a fresh ring: slot k holds the k-th stored step */
        replay_get_img(rep, k, img, next);
        bad += memcmp(img, want[k], IB) != 0;
        bad += memcmp(next, want_next[k], IB) != 0;
        flat += t_contrast(img, IB) < 40;
    }
    T_CHECK_MSG(bad == 0, "%d of %ld stored images differ from the camera's", bad, 2 * stored);
    T_CHECK_MSG(flat == 0, "%d of %ld images have almost no contrast", flat, stored);
    long changed = 0;
    for (int j = 0; j < IB; j++)
        changed += want[0][j] != want[SEG - 1][j];
    T_CHECK_MSG(changed > 50, "%ld pixels changed over a segment", changed);
    printf("pixpipe: %ld steps stored; replay %.0f bytes per chunk step (image %d)\n", stored,
           replay_bytes_per_step(rep), IB);
}

// ---- pixel flow behaviour cloning -------------------------------------------------------------
// The flow's observation input is [encoder features (F), proprioception (P)]; for a row (image,
// proprio, chunk a): t ~ U[0, 1), z ~ N(0, I), x_t = (1 - t) z + t a, loss = mean over rows of
// ||v(x_t, t | cond) - (a - z)||^2 / D, and dL/dcond's feature columns go back into the encoder.

struct pixbc {
    struct encoder *enc;
    struct encoder_ctx *ec;
    struct flow *f;
    struct flow_ctx *fc;
    struct optim *oe, *of;
    int F, W; /* features, cond width F + P */
};

static float cond[B * 128], xt[B * 64], target[B * 64], dv[B * 64], dcond[B * 128];
static float dfeat[B * 64];

static bool pixbc_new(struct pixbc *m, struct rng *g)
{
    struct encoder_spec es;
    encoder_spec_default(&es, S, S, 3);
    char err[256];
    m->F = es.feat;
    m->W = es.feat + P;
    struct flow_spec fs = {.obs_dim = m->W,
                           .act_dim = D / 4,
                           .chunk = 4,
                           .hidden = 64,
                           .depth = 2,
                           .temb = 8,
                           .steps = 4};
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = 3e-3f;
    m->enc = encoder_new(&es, err, sizeof(err));
    m->f = flow_new(&fs, err, sizeof(err));
    if (!m->enc || !m->f)
        return false;
    encoder_init(m->enc, g);
    flow_init(m->f, g);
    m->ec = encoder_ctx_new(m->enc, B);
    m->fc = flow_ctx_new(m->f, B, true);
    m->oe = optim_new(&oc, m->enc->n_params);
    m->of = optim_new(&oc, m->f->n_params);
    return m->ec && m->fc && m->oe && m->of;
}

static void pixbc_free(struct pixbc *m)
{
    optim_destroy(&m->oe);
    optim_destroy(&m->of);
    flow_ctx_destroy(&m->fc);
    encoder_ctx_destroy(&m->ec);
    flow_destroy(&m->f);
    encoder_destroy(&m->enc);
}

// the flow-matching loss of one batch for noise z (B, D) and times t; with train, one Adam step
// of flow and encoder
static double pixbc_loss(struct pixbc *m, const uint8_t *img, const float *obs, const float *act,
                         const float *z, const float *t, bool train)
{
    const float *feat = encoder_forward(m->enc, m->ec, img, B);
    for (int b = 0; b < B; b++) {
        memcpy(cond + b * m->W, feat + b * m->F, (size_t)m->F * sizeof(float));
        memcpy(cond + b * m->W + m->F, obs + b * O, (size_t)P * sizeof(float));
        for (int j = 0; j < D; j++) {
            float a = act[b * D + j], e = z[b * D + j];
            xt[b * D + j] = (1 - t[b]) * e + t[b] * a;
            target[b * D + j] = a - e;
        }
    }
    const float *v = flow_forward(m->f, m->fc, xt, t, cond, B);
    double l = 0;
    for (int j = 0; j < B * D; j++) {
        float e = v[j] - target[j];
        l += (double)e * e;
        dv[j] = 2.0f * e / (float)(B * D);
    }
    if (train) {
        encoder_zero_grad(m->enc);
        flow_zero_grad(m->f);
        flow_backward(m->f, m->fc, dv, NULL, NULL);
        flow_backward_obs(m->f, m->fc, dcond);
        for (int b = 0; b < B; b++)
            memcpy(dfeat + b * m->F, dcond + b * m->W, (size_t)m->F * sizeof(float));
        encoder_backward(m->enc, m->ec, dfeat);
        optim_step(m->oe, m->enc->params, m->enc->grads);
        optim_step(m->of, m->f->params, m->f->grads);
    }
    return l / (B * D);
}

// pixel flow BC on one replay batch: the held-fixed-noise loss falls, the encoder learns
static void test_pixel_flow_bc(void)
{
    static float obs[B * 64], next[B * 64], act[B * 64], rew[B], done[B], z[B * 64], t[B];
    static float z0[B * 64], t0[B];
    static uint8_t img[B * IB], shifted[B * IB];
    struct replay_batch bt = {obs, act, rew, next, done, NULL, NULL, NULL};
    struct rng g;
    rng_init(&g, 4, 4);
    T_EQ_INT(replay_sample_img(rep, &g, B, 0, 1, -1, &bt, img, NULL), B);
    struct pixbc m = {0};
    bool ok = pixbc_new(&m, &g);
    T_CHECK(ok);
    if (!ok) {
        pixbc_free(&m);
        return;
    }
    rng_normal_fill(&g, z0, B * D); /* the evaluation noise, held fixed */
    for (int b = 0; b < B; b++)
        t0[b] = (float)(b + 0.5) / B;
    double before = pixbc_loss(&m, img, obs, act, z0, t0, false);
    float w0 = m.enc->params[0];
    for (int it = 0; it < 80; it++) { /* random shift (pad 4), fresh noise and times */
        encoder_random_shift(img, shifted, B, S, S, 3, 4, &g);
        rng_normal_fill(&g, z, B * D);
        for (int b = 0; b < B; b++)
            t[b] = (float)rng_uniform(&g);
        pixbc_loss(&m, shifted, obs, act, z, t, true);
    }
    double after = pixbc_loss(&m, img, obs, act, z0, t0, false);
    T_CHECK_MSG(isfinite(after) && after < 0.8 * before, "loss %.4f -> %.4f", before, after);
    T_CHECK(m.enc->params[0] != w0); /* the encoder's first layer moved */
    printf("pixpipe: pixel flow BC, held-out-noise loss %.4f -> %.4f after 80 steps of %d "
           "shifted images\n",
           before, after, B);
    pixbc_free(&m);
}

// rldt demo --pixels: every step and episode end pictured, pictures change along an episode
static void test_demo_pixels(void)
{
    char bin[512], dir[] = "/tmp/rldt-pixpipe-XXXXXX", cmd[1400], path[600], err[400];
    spawn_bin_dir(bin, sizeof(bin));
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/demo.dset", dir);
    snprintf(cmd, sizeof(cmd),
             "%s/rldt demo --env=lift --episodes=2 --num-envs=2 --pixels=1 --image-size=32 "
             "--pixel-camera=wrist --out=%s > %s/demo.log 2>&1",
             bin, path, dir);
    T_EQ_INT(system(cmd), 0);
    struct dataset d;
    int rc = dataset_load(&d, path, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        size_t ib = dataset_image_bytes(&d);
        T_EQ_INT(ib, 32 * 32 * 3);
        int flat = 0;
        for (long i = 0; i < d.n; i++)
            flat += t_contrast(d.img + (size_t)i * ib, ib) < 20;
        for (long e = 0; e < d.n_episodes; e++)
            flat += t_contrast(d.final_img + (size_t)e * ib, ib) < 20;
        T_CHECK_MSG(flat == 0, "%d of %ld pictures are flat", flat, d.n + d.n_episodes);
        long last = d.ep[0].len - 1;
        T_CHECK(d.ep[0].len > 5 && memcmp(d.img, d.img + (size_t)last * ib, ib) != 0);
        T_CHECK(strstr(d.source, "--pixels=1") != NULL);
        dataset_fini(&d);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    T_EQ_INT(system(cmd), 0);
}

int main(void)
{
    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.task = "lift";
    vc.max_episode_steps = 200;
    vc.num_envs = M;
    vc.chunk = 4;
    char err[512];
    venv = vecenv_new(&vc, err, sizeof(err));
    T_CHECK_MSG(venv != NULL, "%s", err);
    cam = venv ? pixcam_new(vecenv_model(venv), S, "default", err, sizeof(err)) : NULL;
    if (venv && !cam) {
        printf("skipped: cannot render here: %s\n", err);
        vecenv_destroy(&venv);
        return T_DONE("pixpipe");
    }
    if (venv) {
        T_EQ_INT(pixcam_attach(cam, venv), 0);
        O = vecenv_obs_dim(venv);
        D = vc.chunk * vecenv_act_dim(venv);
        P = task_proprio_dim(task_find("lift"));
        rep = replay_new_img(1000, O, D, IB, SEG);
        T_CHECK(rep != NULL && D <= 64 && O <= 64 && P <= 64);
    }
    if (rep) {
        T_RUN(test_images_exact);
        T_RUN(test_pixel_flow_bc);
        T_RUN(test_demo_pixels);
    }
    replay_destroy(&rep);
    vecenv_destroy(&venv);
    pixcam_destroy(&cam);
    return T_DONE("pixpipe");
}
