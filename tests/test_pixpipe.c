/*
 * test_pixpipe.c — pixel observations end to end in one process, with tiny budgets: the lift
 * task's envs pictured by the real renderer (actor/pixcam.c, 84x84 from the front camera) ->
 * segments recorded as an actor records them -> packed, decoded and validated -> the replay's
 * image ring -> a sampled batch -> random shift -> the image encoder in front of a small policy
 * head, trained by behaviour cloning of the stored action chunks. Checks: every stored image and
 * next image is bit for bit the camera's; the pictures are not blank and change as the arm
 * moves; the encoder's training steps lower the loss. And `rldt demo --pixels=1` records demos
 * with a picture per step and per episode end into a dataset. Skips (saying why) where EGL is
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
#include "common/nn.h"
#include "common/optim.h"
#include "common/rng.h"
#include "common/task.h"
#include "learner/replay.h"
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
    const struct wire_segment *g = &out.segment;
    int steps[SEG];
    for (uint32_t t = 0; t < g->T; t++)
        steps[t] = (int)g->steps[t];
    struct replay_segment rs = {.T = (int)g->T,
                                .obs = g->obs,
                                .act = g->actions,
                                .rew = g->rewards,
                                .steps = steps,
                                .term = g->terminal,
                                .trunc = g->truncated,
                                .traj_id = traj};
    T_EQ_INT(replay_add_img(rep, &rs, g->images), 0);
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
        int lo = 255, hi = 0;
        for (int j = 0; j < IB; j++) {
            lo = img[j] < lo ? img[j] : lo;
            hi = img[j] > hi ? img[j] : hi;
        }
        flat += hi - lo < 40;
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

// mean squared error of pred against target (n floats); d = its gradient
static double mse(const float *pred, const float *target, float *d, int n)
{
    double l = 0;
    for (int j = 0; j < n; j++) {
        float e = pred[j] - target[j];
        l += (double)e * e;
        d[j] = 2.0f * e / (float)n;
    }
    return l / n;
}

// encoder + head on one replay batch: behaviour cloning of the stored chunks lowers the loss
static void test_encoder_trains(void)
{
    struct encoder_spec es;
    encoder_spec_default(&es, S, S, 3);
    char err[256];
    struct encoder *enc = encoder_new(&es, err, sizeof(err));
    T_CHECK_MSG(enc != NULL, "%s", err);
    struct nn_spec hs;
    nn_spec_mlp(&hs, es.feat + P, D, 64, 1, NN_ACT_RELU);
    struct nn *head = enc ? nn_new(&hs, err, sizeof(err)) : NULL;
    struct encoder_ctx *ec = enc ? encoder_ctx_new(enc, B) : NULL;
    struct nn_ctx *hc = head ? nn_ctx_new(head, B) : NULL;
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = 3e-3f;
    struct optim *oe = enc ? optim_new(&oc, enc->n_params) : NULL;
    struct optim *oh = head ? optim_new(&oc, head->n_params) : NULL;
    T_CHECK(head && ec && hc && oe && oh);
    static float obs[B * 64], next[B * 64], act[B * 64], rew[B], done[B];
    static float in[B * 128], d_out[B * 64], d_in[B * 128], d_feat[B * 64];
    static uint8_t img[B * IB], shifted[B * IB];
    struct replay_batch bt = {obs, act, rew, next, done, NULL, NULL, NULL};
    struct rng g;
    rng_init(&g, 4, 4);
    T_EQ_INT(replay_sample_img(rep, &g, B, 0, 1, -1, &bt, img, NULL), B);
    if (!hc || !oe || !oh)
        goto out;
    encoder_init(enc, &g);
    nn_init(head, &g);
    int F = es.feat, W = F + P;
    float w0 = enc->params[0],
          wh = enc->params[enc->w[es.n_conv]]; /* a first-conv, a head weight */
    double first = 0, last = 0;
    for (int it = 0; it < 60; it++) {
        encoder_random_shift(img, shifted, B, S, S, 3, 4, &g);
        const float *feat = encoder_forward(enc, ec, shifted, B);
        for (int b = 0; b < B; b++) { /* features, then the robot's own state */
            memcpy(in + b * W, feat + b * F, (size_t)F * sizeof(float));
            memcpy(in + b * W + F, obs + b * O, (size_t)P * sizeof(float));
        }
        const float *pred = nn_forward(head, hc, in, B);
        double l = mse(pred, act, d_out, B * D);
        if (it < 5) /* mean of the first and of the last 5 steps */
            first += l / 5;
        if (it >= 55)
            last += l / 5;
        encoder_zero_grad(enc);
        nn_zero_grad(head);
        nn_backward(head, hc, d_out, d_in);
        for (int b = 0; b < B; b++)
            memcpy(d_feat + b * F, d_in + b * W, (size_t)F * sizeof(float));
        encoder_backward(enc, ec, d_feat);
        optim_step(oe, enc->params, enc->grads);
        optim_step(oh, head->params, head->grads);
    }
    T_CHECK_MSG(isfinite(last) && last < 0.7 * first, "loss %.4f -> %.4f", first, last);
    T_CHECK(enc->params[0] != w0 && enc->params[enc->w[es.n_conv]] != wh); /* the encoder learns */
    printf("pixpipe: behaviour-cloning loss %.4f -> %.4f (means of the first and last 5 of 60 "
           "steps, %d shifted images)\n",
           first, last, B);
out:
    optim_destroy(&oe);
    optim_destroy(&oh);
    nn_ctx_destroy(&hc);
    encoder_ctx_destroy(&ec);
    nn_destroy(&head);
    encoder_destroy(&enc);
}

// the contrast (max - min byte) of an image of n bytes
static int contrast(const uint8_t *p, size_t n)
{
    int lo = 255, hi = 0;
    for (size_t j = 0; j < n; j++) {
        lo = p[j] < lo ? p[j] : lo;
        hi = p[j] > hi ? p[j] : hi;
    }
    return hi - lo;
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
            flat += contrast(d.img + (size_t)i * ib, ib) < 20;
        for (long e = 0; e < d.n_episodes; e++)
            flat += contrast(d.final_img + (size_t)e * ib, ib) < 20;
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
        T_RUN(test_encoder_trains);
        T_RUN(test_demo_pixels);
    }
    replay_destroy(&rep);
    vecenv_destroy(&venv);
    pixcam_destroy(&cam);
    return T_DONE("pixpipe");
}
