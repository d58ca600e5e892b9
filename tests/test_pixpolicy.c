/*
 * test_pixpolicy.c — pixel flow policies (common/pixflow.h): a policy file with its encoder
 * loads back into a policy whose actions equal the saved networks' bit for bit; other commands'
 * loader, an unknown encoder-section version, a missing section and a mismatched shape are
 * refused with a reason; a plain flow file still loads. Pre-training from images
 * (learner/algo/pretrain.h) lowers the validation loss, trains the encoder and resumes from its
 * state file bit for bit. End to end (when EGL renders here): rldt demo --pixels -> rldt
 * pretrain -> rldt eval runs episodes of lift through the policy's camera; rldt act refuses it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/pixcam.h"
#include "actor/vecenv.h"
#include "common/ckpt.h"
#include "common/config.h"
#include "common/dataset.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/pixflow.h"
#include "common/policy.h"
#include "common/rng.h"
#include "common/task.h"
#include "learner/algo/pretrain.h"
#include "tests/algotest.h"
#include "tests/harness.h"
#include "tests/spawn.h"

enum { S = 40, IB = S * S * 3, NB = 3 };

static char dir[64];

static void pix_config(struct rl_config *c, const char *extra)
{
    char kv[600];
    snprintf(kv, sizeof(kv),
             "algo=rldt env=lift chunk=4 flow_hidden=32 flow_depth=2 flow_temb=8 flow_steps=4 "
             "pixels=true image_size=%d pixel_camera=wrist seed=5 %s",
             S, extra);
    algotest_config(c, kv);
}

// a random pixel policy's networks (caller frees)
static bool random_nets(const struct rl_config *c, struct flow **f, struct encoder **e, int *P)
{
    struct encoder_spec es;
    struct flow_spec fs;
    char err[300];
    int rc = pixflow_specs(c, &es, &fs, P, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    *f = rc ? NULL : flow_new(&fs, err, sizeof(err));
    *e = *f ? encoder_new(&es, err, sizeof(err)) : NULL;
    if (!*e)
        return false;
    struct rng g;
    rng_init(&g, 11, 0);
    flow_init(*f, &g);
    encoder_init(*e, &g);
    return true;
}

// deterministic actions (NB, D) of the networks themselves: cond = [features | obs[:P]]
static void reference_act(const struct flow *f, const struct encoder *e, int P, int O,
                          const float *obs, const uint8_t *img, float *out)
{
    struct encoder_ctx *ec = encoder_ctx_new(e, NB);
    struct flow_ctx *fc = flow_ctx_new(f, NB, false);
    int F = e->sp.feat, W = F + P, D = f->D;
    float cond[NB * 256];
    float *chain = calloc((size_t)(f->spec.steps + 1) * NB * D, sizeof(float));
    RL_ASSERT(ec && fc && chain && W <= 256);
    const float *feat = encoder_forward(e, ec, img, NB);
    for (int b = 0; b < NB; b++) {
        memcpy(cond + b * W, feat + b * F, (size_t)F * sizeof(float));
        memcpy(cond + b * W + F, obs + (size_t)b * O, (size_t)P * sizeof(float));
    }
    flow_sample(f, fc, cond, NB, chain);
    flow_chain_actions(chain, f->spec.steps, NB, D, NULL, out);
    free(chain);
    flow_ctx_destroy(&fc);
    encoder_ctx_destroy(&ec);
}

// rewrite a pixel policy file with its encoder section replaced (NULL: dropped)
static int rewrite(const char *from, const char *to, const struct pixflow_file *h)
{
    char err[300];
    struct ckpt *k = ckpt_load(from, "CKPT", 0, err, sizeof(err));
    size_t n = 0;
    const uint64_t *layout = k ? ckpt_get(k, "policy.layout", &n) : NULL;
    struct ckpt_writer *w = layout ? ckpt_writer_new("CKPT", *layout) : NULL;
    const char *names[] = {"learner.config", "policy.kind", "policy.layout", "policy.weights"};
    int rc = w ? 0 : -EINVAL;
    for (size_t i = 0; i < 4 && !rc; i++) {
        const void *d = ckpt_get(k, names[i], &n);
        rc = ckpt_add(w, names[i], d, n);
    }
    if (!rc && h)
        rc = ckpt_add(w, "policy.encoder", h, sizeof(*h));
    if (!rc)
        rc = ckpt_writer_save(w, to, err, sizeof(err));
    ckpt_writer_destroy(&w);
    ckpt_destroy(&k);
    return rc;
}

// a saved pixel policy acts as its networks do, bit for bit; bad files are refused
static void test_file_roundtrip(void)
{
    struct rl_config c, lc;
    pix_config(&c, "");
    struct flow *f = NULL;
    struct encoder *e = NULL;
    int P = 0;
    if (!random_nets(&c, &f, &e, &P)) {
        flow_destroy(&f);
        return;
    }
    const struct task_info *t = task_find("lift");
    int O = t->obs_dim, D = f->D;
    char path[128], bad[128], err[600];
    snprintf(path, sizeof(path), "%s/pix.rldt", dir);
    snprintf(bad, sizeof(bad), "%s/bad.rldt", dir);
    char *text = config_to_string(&c);
    T_EQ_INT(pixflow_save(path, text, f, e, P, NULL, O, err, sizeof(err)), 0);
    struct policy *p = policy_load_img(path, &lc, NB, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    static float obs[NB * 64], want[NB * 64], got[NB * 64];
    static uint8_t img[NB * IB];
    struct rng g;
    rng_init(&g, 3, 0);
    rng_normal_fill(&g, obs, NB * O);
    for (int i = 0; i < NB * IB; i++)
        img[i] = (uint8_t)rng_below(&g, 256);
    if (p) {
        T_EQ_INT(policy_image_bytes(p), IB);
        T_CHECK(!strcmp(policy_kind(p), "pixflow") && lc.image_size == S && lc.pixels);
        T_CHECK(!strcmp(lc.pixel_camera, "wrist"));
        reference_act(f, e, P, O, obs, img, want);
        policy_act_img(p, obs, img, NB, &g, true, got);
        T_CHECK_MSG(memcmp(want, got, (size_t)NB * D * sizeof(float)) == 0,
                    "actions differ: %g vs %g", want[0], got[0]);
        img[5] ^= 0x80; /* the picture matters */
        policy_act_img(p, obs, img, NB, &g, true, got);
        T_CHECK(memcmp(want, got, (size_t)D * sizeof(float)) != 0);
        policy_destroy(&p);
    }
    // other commands' loader refuses it, with a reason
    T_CHECK(policy_load(path, &lc, 1, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "pixel policy") != NULL, "%s", err);
    printf("policy_load: %s\n", err);
    // an encoder section of an unknown version, of another shape, or none
    struct pixflow_file h = {.version = PIXFLOW_FILE_VERSION + 1};
    T_EQ_INT(rewrite(path, bad, &h), 0);
    T_CHECK(policy_load_img(bad, &lc, 1, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "version") != NULL, "%s", err);
    printf("newer section: %s\n", err);
    h = (struct pixflow_file){.version = PIXFLOW_FILE_VERSION, .h = S, .w = S, .c = 3};
    T_EQ_INT(rewrite(path, bad, &h), 0);
    T_CHECK(policy_load_img(bad, &lc, 1, err, sizeof(err)) == NULL);
    printf("other shape: %s\n", err);
    T_EQ_INT(rewrite(path, bad, NULL), 0);
    T_CHECK(policy_load_img(bad, &lc, 1, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "policy.encoder") != NULL, "%s", err);
    // a plain flow file still loads, without images
    struct rl_config fc;
    algotest_config(&fc, "algo=rldt env=lift chunk=4 flow_hidden=32 flow_depth=2 flow_temb=8");
    struct flow_spec fs;
    T_EQ_INT(flow_spec_from_config(&fs, &fc, O, t->act_dim, 4, err, sizeof(err)), 0);
    struct flow *plain = flow_new(&fs, err, sizeof(err));
    char *ftext = config_to_string(&fc);
    T_EQ_INT(flow_policy_save(bad, ftext, plain, NULL, err, sizeof(err)), 0);
    p = policy_load_img(bad, &lc, 1, err, sizeof(err));
    T_CHECK_MSG(p != NULL && policy_image_bytes(p) == 0, "%s", err);
    policy_destroy(&p);
    free(ftext);
    flow_destroy(&plain);
    free(text);
    flow_destroy(&f);
    encoder_destroy(&e);
}

// 6 episodes of 24 lift-sized rows whose actions follow their picture's brightness
static void picture_dataset(struct dataset *d)
{
    const struct task_info *t = task_find("lift");
    int O = t->obs_dim, A = t->act_dim, L = 24;
    dataset_init(d, "lift", O, A);
    dataset_set_images(d, S, S, 3);
    struct rng g;
    rng_init(&g, 9, 0);
    static float obs[24 * 64], act[24 * 16], rew[24], fin[64];
    static uint8_t img[24 * IB], fimg[IB];
    for (int ep = 0; ep < 6; ep++) {
        for (int i = 0; i < L; i++) {
            double v = rng_uniform(&g);
            for (int j = 0; j < O; j++)
                obs[i * O + j] = (float)rng_normal(&g);
            for (int j = 0; j < A; j++)
                act[i * A + j] = (float)(2 * v - 1) * (j % 2 ? 1.0f : -1.0f);
            memset(img + (size_t)i * IB, (int)(v * 255), IB);
            rew[i] = 0;
        }
        dataset_add_episode(d, L, obs, act, rew, fin, DATASET_EP_TIMELIMIT);
        dataset_add_images(d, img, fimg);
    }
}

// pre-training from images: the loss falls, the encoder moves, a resumed run continues exactly
static void test_pixel_pretrain(void)
{
    struct dataset d;
    picture_dataset(&d);
    struct rl_config c;
    pix_config(&c, "pretrain_batch=16 pretrain_lr=2e-3 pretrain_steps=150 ema_decay=0.9");
    char err[400], state[128], pol[128];
    struct pretrain *p = pretrain_new(&c, &d, err, sizeof(err));
    struct pretrain *q = p ? pretrain_new(&c, &d, err, sizeof(err)) : NULL;
    T_CHECK_MSG(q != NULL, "%s", err);
    if (!q) {
        pretrain_destroy(&p);
        dataset_fini(&d);
        return;
    }
    const struct encoder *e = pretrain_encoder(p);
    T_CHECK(e != NULL && pretrain_encoder(q) != NULL);
    float w0 = e->params[0];
    double v0 = pretrain_val_loss(p), loss = 0;
    for (int s = 0; s < 100; s++)
        T_EQ_INT(pretrain_step(p, &loss), 0);
    snprintf(state, sizeof(state), "%s/pre.state", dir);
    T_EQ_INT(pretrain_save_state(p, state, err, sizeof(err)), 0);
    for (int s = 0; s < 50; s++)
        T_EQ_INT(pretrain_step(p, &loss), 0);
    double v1 = pretrain_val_loss(p);
    printf("pixel pretrain: validation loss %.4f -> %.4f after 150 steps\n", v0, v1);
    T_CHECK_MSG(isfinite(v1) && v1 < 0.85 * v0, "%.4f -> %.4f", v0, v1);
    T_CHECK(e->params[0] != w0);
    // resume: the other run loads the state at step 100 and continues to the same weights
    T_EQ_INT(pretrain_load_state(q, state, err, sizeof(err)), 0);
    for (int s = 0; s < 50; s++)
        T_EQ_INT(pretrain_step(q, &loss), 0);
    const struct encoder *eq = pretrain_encoder_ema(q);
    T_CHECK(memcmp(eq->params, pretrain_encoder_ema(p)->params, eq->n_params * sizeof(float)) == 0);
    T_CHECK(memcmp(pretrain_ema(q)->params, pretrain_ema(p)->params,
                   pretrain_ema(p)->n_params * sizeof(float)) == 0);
    // the saved policy is a pixel policy
    snprintf(pol, sizeof(pol), "%s/pre.rldt", dir);
    char *text = config_to_string(&c);
    T_EQ_INT(pretrain_save_policy(p, text, pol, err, sizeof(err)), 0);
    struct rl_config lc;
    struct policy *pp = policy_load_img(pol, &lc, 2, err, sizeof(err));
    T_CHECK_MSG(pp != NULL && policy_image_bytes(pp) == IB, "%s", err);
    policy_destroy(&pp);
    free(text);
    pretrain_destroy(&p);
    pretrain_destroy(&q);
    dataset_fini(&d);
}

static int run(const char *cmd)
{
    printf("$ %s\n", cmd);
    fflush(stdout);
    return system(cmd);
}

// whether dir/name contains s (and print it)
static bool file_has(const char *d, const char *name, const char *s)
{
    char path[256], buf[2000] = {0};
    snprintf(path, sizeof(path), "%s/%s", d, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    printf("%s: %s", name, buf);
    return strstr(buf, s) != NULL;
}

// dir/nocam.rldt: a random pixel policy of a camera lift does not have
static int nocam_policy(void)
{
    struct rl_config c;
    pix_config(&c, "pixel_camera=nosuch");
    struct flow *f = NULL;
    struct encoder *e = NULL;
    int P = 0, rc = -EINVAL;
    char path[128], err[300];
    snprintf(path, sizeof(path), "%s/nocam.rldt", dir);
    char *text = config_to_string(&c);
    if (random_nets(&c, &f, &e, &P) && text)
        rc = pixflow_save(path, text, f, e, P, NULL, task_find("lift")->obs_dim, err, sizeof(err));
    free(text);
    flow_destroy(&f);
    encoder_destroy(&e);
    return rc;
}

// the commands: demo with pictures -> pretrain -> eval with the policy's camera; act refuses
static void test_commands(void)
{
    char bin[512], cmd[2000];
    spawn_bin_dir(bin, sizeof(bin));
    snprintf(cmd, sizeof(cmd),
             "%s/rldt demo --env=lift --episodes=2 --num-envs=2 --pixels=1 --image-size=%d "
             "--pixel-camera=wrist --out=%s/d.dset > %s/demo.log 2>&1",
             bin, S, dir, dir);
    T_EQ_INT(run(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "%s/rldt pretrain --dataset=%s/d.dset --out=%s/p.rldt --pretrain-steps=20 "
             "--pretrain-batch=8 --flow-hidden=32 --flow-temb=8 > %s/pre.log 2>&1",
             bin, dir, dir, dir);
    T_EQ_INT(run(cmd), 0);
    snprintf(cmd, sizeof(cmd),
             "%s/rldt eval --env=lift --policy=%s/p.rldt --episodes=3 --num-envs=2 --json > "
             "%s/eval.json 2> %s/eval.log",
             bin, dir, dir, dir);
    T_EQ_INT(run(cmd), 0);
    char buf[2000] = {0}, path[128];
    snprintf(path, sizeof(path), "%s/eval.json", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
    }
    printf("%s", buf);
    T_CHECK(strstr(buf, "\"episodes\":3") != NULL && strstr(buf, "\"nonfinite\":0") != NULL);
    snprintf(path, sizeof(path), "%s/p.rldt", dir);
    struct rl_config lc;
    char err[400];
    struct policy *p = policy_load_img(path, &lc, 1, err, sizeof(err));
    T_CHECK_MSG(p && !strcmp(lc.pixel_camera, "wrist") && lc.image_size == S, "%s", err);
    policy_destroy(&p);
    snprintf(cmd, sizeof(cmd), "%s/rldt act --policy=%s/p.rldt /dev/null 2> %s/act.log", bin, dir,
             dir);
    T_CHECK(run(cmd) != 0);
    T_CHECK(file_has(dir, "act.log", "pixel policy"));
    // a policy whose camera cannot render here: eval says so and fails
    snprintf(cmd, sizeof(cmd),
             "%s/rldt eval --env=lift --policy=%s/nocam.rldt --episodes=1 2> %s/nocam.log", bin,
             dir, dir);
    T_EQ_INT(nocam_policy(), 0);
    T_CHECK(run(cmd) != 0);
    T_CHECK(file_has(dir, "nocam.log", "cannot render"));
}

// whether EGL renders here (a pixcam on a lift vecenv)
static bool can_render(char *err, size_t errlen)
{
    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.task = "lift";
    vc.num_envs = 1;
    struct vecenv *v = vecenv_new(&vc, err, errlen);
    struct pixcam *cam = v ? pixcam_new(vecenv_model(v), S, "wrist", err, errlen) : NULL;
    bool ok = cam != NULL;
    vecenv_destroy(&v);
    pixcam_destroy(&cam);
    return ok;
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/rldt-pixpolicy-XXXXXX");
    T_CHECK(mkdtemp(dir) != NULL);
    T_RUN(test_file_roundtrip);
    T_RUN(test_pixel_pretrain);
    char err[400];
    if (can_render(err, sizeof(err)))
        T_RUN(test_commands);
    else
        printf("skipped the commands: cannot render here: %s\n", err);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    T_EQ_INT(system(cmd), 0);
    return T_DONE("pixpolicy");
}
