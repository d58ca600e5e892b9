/*
 * test_rldt_pixels.c — RLDT fine-tuning a pixel policy, in one process with tiny networks: a
 * random "pixflow" base policy (36x36 images, the default encoder) written with pixflow_save,
 * RLDT built on it through rldt_ops, a replay with an image per observation. Checks: the policy
 * it exports is a pixel policy of [flow | actor encoder]; critic and actor steps run with finite
 * losses; the critics' encoder starts as the actor's and its first step moves each weight by
 * at most rldt_critic_lr / rldt_encoder_lr_div while the actor encoder's first step moves one by
 * rldt_actor_lr (Adam's first step is the learning rate times a sign); after the run the two
 * encoders differ, both moved, the critics' less; a frozen actor encoder stays; a frozen
 * critics' encoder feeds the critics the pool images' features and stays; a state critic
 * sees the pool rows' state vectors; a checkpoint
 * round-trips (encoders, their Adam states, the exported policy) and one without a section
 * the run needs is refused; a pixel base policy is refused without pixels = true, and by
 * sac/reinflow's base loader with a reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/nn.h"
#include "common/optim.h"
#include "common/pixflow.h"
#include "common/rng.h"
#include "common/task.h"
#include "learner/algo.h"
#include "learner/algo/critic.h"
#include "learner/algo/rldt.h"
#include "learner/algo/rldt_impl.h"
#include "learner/replay.h"
#include "tests/harness.h"

enum { SIDE = 36, IB = SIDE * SIDE * 3, H = 2, SEG = 8, NSEG = 24 };

static char dir[] = "/tmp/rldt-pix-XXXXXX", base_path[200];
static struct algo_dims dims;
static struct replay *rep;

static const char *const keys[][2] = {{"algo", "rldt"},
                                      {"env", "lift"},
                                      {"pixels", "true"},
                                      {"image_size", "36"},
                                      {"chunk", "2"},
                                      {"flow_hidden", "32"},
                                      {"flow_depth", "2"},
                                      {"flow_temb", "4"},
                                      {"flow_steps", "4"},
                                      {"batch_size", "16"},
                                      {"rldt_critic_hidden", "32"},
                                      {"rldt_critic_depth", "2"},
                                      {"rldt_particles", "4"},
                                      {"rldt_actor_batch", "8"},
                                      {"rldt_critic_round", "4"},
                                      {"rldt_actor_start", "4"},
                                      {"rldt_actor_every", "2"},
                                      {"rldt_actor_lr", "1e-3"},
                                      {"rldt_critic_lr", "1e-3"},
                                      {"rldt_actor_warmup", "0"},
                                      {"rldt_lambda", "0.5"},
                                      {"rldt_td_horizon", "3"},
                                      {"rldt_threads", "1"},
                                      {"rldt_target_samples", "2"}};

static void config(struct rl_config *c)
{
    config_default(c);
    char err[300];
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        T_CHECK_MSG(config_set(c, keys[i][0], keys[i][1], err, sizeof(err)) == 0, "%s", err);
    T_CHECK_MSG(config_validate(c, err, sizeof(err)) == 0, "%s", err);
    snprintf(c->base_policy, sizeof(c->base_policy), "%s", base_path);
}

/* a random pixel policy of the test's sizes, with bounds, at base_path */
static int write_base(void)
{
    struct rl_config c;
    config(&c);
    struct encoder_spec es;
    struct flow_spec fs;
    int P;
    char err[300];
    if (pixflow_specs(&c, &es, &fs, &P, err, sizeof(err)) < 0)
        return -1;
    struct flow *f = flow_new(&fs, err, sizeof(err));
    struct encoder *e = encoder_new(&es, err, sizeof(err));
    struct rng r;
    rng_init(&r, 7, 0);
    flow_init(f, &r);
    encoder_init(e, &r);
    int O = dims.obs_dim, A = dims.act_dim;
    float *b = malloc((size_t)(2 * O + 2 * A) * sizeof(float));
    for (int i = 0; i < O; i++)
        b[i] = -2, b[O + i] = 2;
    for (int i = 0; i < A; i++)
        b[2 * O + i] = -1, b[2 * O + A + i] = 1;
    char *text = config_to_string(&c);
    int rc = pixflow_save(base_path, text, f, e, P, b, O, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    free(text);
    free(b);
    flow_destroy(&f);
    encoder_destroy(&e);
    return rc;
}

/* NSEG segments of random states, actions, sparse rewards and images */
static void fill_replay(void)
{
    int O = dims.obs_dim, D = dims.D;
    rep = replay_new_img(4096, O, D, IB, SEG);
    T_CHECK(rep != NULL);
    struct rng r;
    rng_init(&r, 3, 1);
    float obs[(SEG + 1) * 64], act[SEG * 16], rew[SEG];
    uint8_t term[SEG] = {0}, trunc[SEG] = {0};
    static uint8_t img[(SEG + 1) * IB];
    T_CHECK(O <= 64 && D <= 16);
    for (int k = 0; k < NSEG; k++) {
        rng_normal_fill(&r, obs, (long)(SEG + 1) * O);
        for (int i = 0; i < SEG * D; i++)
            act[i] = (float)rng_range(&r, -1, 1);
        for (int t = 0; t < SEG; t++)
            rew[t] = rng_below(&r, 4) == 0 ? 1.0f : 0.0f;
        for (size_t i = 0; i < sizeof(img); i++)
            img[i] = (uint8_t)rng_below(&r, 256);
        struct replay_segment s = {.T = SEG,
                                   .obs = obs,
                                   .act = act,
                                   .rew = rew,
                                   .term = term,
                                   .trunc = trunc,
                                   .traj_id = (uint64_t)k};
        T_EQ_INT(replay_add_img(rep, &s, img), 0);
    }
}

static struct algo *make(struct rl_config *c)
{
    char err[600] = "";
    struct algo *a = rldt_ops.create(c, &dims, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "create: %s", err);
    return a;
}

/* the test's configuration into c, and an instance of it */
static struct algo *made(struct rl_config *c)
{
    config(c);
    return make(c);
}

static double max_abs_diff(const float *x, const float *y, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)x[i] - y[i]));
    return m;
}

static double mean_abs_diff(const float *x, const float *y, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += fabs((double)x[i] - y[i]);
    return m / (double)n;
}

static void test_export(void)
{
    struct rl_config c;
    struct algo *a = made(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    T_CHECK(s->px != NULL);
    T_EQ_STR(algo_policy_kind(&rldt_ops, a), "pixflow");
    size_t n = rldt_ops.policy_size(a);
    T_EQ_INT((long)n, (long)(s->actor->n_params + s->px->aenc->n_params));
    T_CHECK(rldt_ops.policy_layout(a) == pixflow_layout(s->actor, s->px->aenc, s->px->P));
    // the critics' encoder starts as the actor's
    T_CHECK(max_abs_diff(s->px->aenc->params, s->px->cenc->params, s->px->aenc->n_params) == 0);
    T_EQ_INT(s->Sn, s->px->F + s->px->P);
    rldt_ops.destroy(a);
}

/* train steps until the instance has done `critic` critic and `actor` actor steps */
static int run_until(struct algo *a, long critic, long actor)
{
    struct rldt *s = (struct rldt *)a;
    struct algo_report rep_ = {0};
    for (int i = 0; i < 400 && (s->st.critic_steps < critic || s->st.actor_steps < actor); i++) {
        int rc = rldt_ops.train_step(a, rep, &rep_);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void test_encoders_learn(void)
{
    struct rl_config c;
    struct algo *a = made(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    struct rldt_pix *x = s->px;
    size_t n = x->aenc->n_params;
    float *a0 = malloc(n * sizeof(float)), *c0 = malloc(n * sizeof(float));
    memcpy(a0, x->aenc->params, n * sizeof(float));
    memcpy(c0, x->cenc->params, n * sizeof(float));
    // the first critic step: the critics' encoder moves by at most lr / 25 per weight
    T_EQ_INT(run_until(a, 1, 0), 0);
    T_EQ_INT((long)s->st.critic_steps, 1);
    double lr_c = c.rldt_critic_lr / c.rldt_encoder_lr_div;
    double mc = max_abs_diff(x->cenc->params, c0, n);
    T_CHECK_MSG(mc > 0.5 * lr_c && mc <= lr_c * 1.001, "critic encoder step %g, lr %g", mc, lr_c);
    T_CHECK(max_abs_diff(x->aenc->params, a0, n) == 0); /* critic steps leave the actor's */
    T_CHECK(isfinite(s->st.diag[DG_CRITIC_LOSS]));
    // the first actor step (after rldt_actor_start critic steps): the actor's moves by its lr
    T_EQ_INT(run_until(a, c.rldt_actor_start, 1), 0);
    T_EQ_INT((long)s->st.actor_steps, 1);
    double ma = max_abs_diff(x->aenc->params, a0, n);
    T_CHECK_MSG(ma > 0.5 * c.rldt_actor_lr && ma <= c.rldt_actor_lr * 1.001,
                "actor encoder step %g", ma);
    T_CHECK(isfinite(s->st.diag[DG_L_TRANSPORT]) && isfinite(s->st.diag[DG_L_CONS]));
    // more of both: losses stay finite, the encoders differ, the critics' moved less
    T_EQ_INT(run_until(a, 24, 8), 0);
    T_EQ_INT((long)s->st.actor_skipped, 0);
    T_CHECK(isfinite(s->st.diag[DG_CRITIC_LOSS]) && isfinite(s->st.diag[DG_Q_MEAN]));
    double da = mean_abs_diff(x->aenc->params, a0, n), dc = mean_abs_diff(x->cenc->params, c0, n);
    double per_a = da / (double)s->st.actor_steps, per_c = dc / (double)s->st.critic_steps;
    fprintf(stderr,
            "  encoders moved: actor %.3g over %lld steps, critics' %.3g over %lld steps; "
            "per step ratio %.1f (lr ratio %.0f)\n",
            da, (long long)s->st.actor_steps, dc, (long long)s->st.critic_steps, per_a / per_c,
            c.rldt_encoder_lr_div);
    T_CHECK(dc > 0 && da > dc);
    T_CHECK_MSG(per_a / per_c > c.rldt_encoder_lr_div / 4 &&
                    per_a / per_c < c.rldt_encoder_lr_div * 4,
                "per-step movement ratio %g", per_a / per_c);
    T_CHECK(max_abs_diff(x->aenc->params, x->cenc->params, n) > 0);
    free(a0);
    free(c0);
    rldt_ops.destroy(a);
}

static struct ckpt *save_load(struct algo *a, const char *name)
{
    char path[700], err[300];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct ckpt_writer *w = ckpt_writer_new("CKPT", rldt_ops.policy_layout(a));
    T_EQ_INT(rldt_ops.save(a, w), 0);
    T_EQ_INT(ckpt_writer_save(w, path, err, sizeof(err)), 0);
    ckpt_writer_destroy(&w);
    struct ckpt *k = ckpt_load(path, "CKPT", 0, err, sizeof(err));
    T_CHECK_MSG(k != NULL, "%s", err);
    return k;
}

/* rldt_actor_encoder_lr: the actor's encoder learns at its own rate, the flow at rldt_actor_lr */
static void test_actor_encoder_lr(void)
{
    struct rl_config c;
    config(&c);
    c.rldt_actor_encoder_lr = c.rldt_actor_lr / 20;
    struct algo *a = make(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    size_t n = s->px->aenc->n_params, nf = s->actor->n_params;
    float *a0 = malloc(n * sizeof(float)), *f0 = malloc(nf * sizeof(float));
    memcpy(a0, s->px->aenc->params, n * sizeof(float));
    memcpy(f0, s->actor->params, nf * sizeof(float));
    T_EQ_INT(run_until(a, c.rldt_actor_start, 1), 0);
    T_EQ_INT((long)s->st.actor_steps, 1);
    double me = max_abs_diff(s->px->aenc->params, a0, n),
           mf = max_abs_diff(s->actor->params, f0, nf);
    T_CHECK_MSG(me > 0.5 * c.rldt_actor_encoder_lr && me <= c.rldt_actor_encoder_lr * 1.001,
                "actor encoder step %g, its lr %g", me, c.rldt_actor_encoder_lr);
    T_CHECK_MSG(mf > 0.5 * c.rldt_actor_lr && mf <= c.rldt_actor_lr * 1.001, "flow step %g", mf);
    free(a0);
    free(f0);
    rldt_ops.destroy(a);
}

/* a learning actor encoder has a trust copy, as the flow has: it stays at the last refresh's
 * weights while the encoder moves, the trust pass sees its features (not the moving encoder's),
 * and a refresh copies the encoder */
static void test_trust_encoder(void)
{
    struct rl_config c;
    config(&c);
    c.rldt_trust_refresh = 3;
    struct algo *a = make(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    struct rldt_pix *x = s->px;
    size_t n = x->aenc->n_params;
    T_CHECK(x->tenc != NULL && x->a_tobs != NULL);
    float *a0 = malloc(n * sizeof(float));
    memcpy(a0, x->aenc->params, n * sizeof(float));
    T_EQ_INT(run_until(a, c.rldt_actor_start, 2), 0);
    T_EQ_INT((long)s->st.actor_steps, 2);
    T_CHECK(max_abs_diff(x->aenc->params, a0, n) > 0);  /* the encoder moved */
    T_CHECK(max_abs_diff(x->tenc->params, a0, n) == 0); /* its trust copy did not */
    // the trust pass's conds are the trust copy's features of the batch, not the encoder's
    int W = x->W, F = x->F;
    double dt = max_abs_diff(x->a_tobs, s->a_sobs, (size_t)s->Ba * W);
    T_CHECK_MSG(dt > 0, "trust conds equal the actor's (%g)", dt);
    for (int k = 0; k < s->Ba; k++) /* the proprioception part is the same */
        T_CHECK(max_abs_diff(x->a_tobs + (size_t)k * W + F, s->a_sobs + (size_t)k * W + F,
                             (size_t)(W - F)) == 0);
    T_EQ_INT(run_until(a, s->st.critic_steps, 3), 0);
    T_EQ_INT((long)s->st.actor_steps, 3);
    T_CHECK(max_abs_diff(x->tenc->params, x->aenc->params, n) == 0); /* refreshed at step 3 */
    free(a0);
    rldt_ops.destroy(a);
}

static void test_frozen_actor_encoder(void)
{
    struct rl_config c;
    config(&c);
    c.rldt_freeze_actor_encoder = true;
    struct algo *a = make(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    size_t n = s->px->aenc->n_params;
    float *a0 = malloc(n * sizeof(float));
    memcpy(a0, s->px->aenc->params, n * sizeof(float));
    T_EQ_INT(run_until(a, 8, 2), 0);
    T_CHECK(s->st.actor_steps >= 2);
    T_CHECK(max_abs_diff(s->px->aenc->params, a0, n) == 0);
    T_CHECK(max_abs_diff(s->px->cenc->params, a0, n) > 0);
    // its checkpoint has no actor encoder Adam state: a run that trains that encoder refuses it
    struct ckpt *k = save_load(a, "frozen.ckpt");
    struct rl_config c2;
    config(&c2);
    struct algo *b = make(&c2);
    char err[400] = "";
    T_CHECK(k && b && rldt_ops.load(b, k, err, sizeof(err)) < 0);
    T_CHECK_MSG(strstr(err, "rldt.adam_enc_actor") != NULL, "%s", err);
    ckpt_destroy(&k);
    if (b)
        rldt_ops.destroy(b);
    free(a0);
    rldt_ops.destroy(a);
}

/* a frozen critics' encoder: the critic step's inputs are the pool images' features through it
 * (unshifted) and the rows' proprioception; neither encoder moves, the critics do */
static void test_frozen_critic_encoder(void)
{
    struct rl_config c;
    config(&c);
    c.rldt_freeze_actor_encoder = c.rldt_freeze_critic_encoder = true;
    struct algo *a = make(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    struct rldt_pix *x = s->px;
    T_CHECK(x->same_enc && x->pool_feat != NULL && x->copt == NULL);
    size_t n = x->aenc->n_params, nq = s->critic->q[0]->n_params;
    float *e0 = malloc(n * sizeof(float)), *q0 = malloc(nq * sizeof(float));
    memcpy(e0, x->cenc->params, n * sizeof(float));
    memcpy(q0, s->critic->q[0]->params, nq * sizeof(float));
    T_EQ_INT(run_until(a, 1, 0), 0);
    T_CHECK(isfinite(s->st.diag[DG_CRITIC_LOSS]));
    T_CHECK(max_abs_diff(s->critic->q[0]->params, q0, nq) > 0);
    // the step's inputs: features of the unshifted pool image, then the proprioception
    struct encoder_ctx *ctx = encoder_ctx_new(x->cenc, 1);
    double worst = 0;
    int obs_same = 1;
    for (int o = 0; ctx && o < 2 * s->B; o++) {
        int row = s->c_rows[o];
        const float *f = encoder_forward(x->cenc, ctx, x->pool_img + (size_t)row * x->ib, 1);
        const float *in = s->c_obs + (size_t)o * x->W;
        worst = fmax(worst, max_abs_diff(in, f, (size_t)x->F));
        obs_same &= !memcmp(in + x->F, s->pool_obs + (size_t)row * s->S, x->P * sizeof(float));
    }
    encoder_ctx_destroy(&ctx);
    T_CHECK_MSG(worst < 1e-5, "critic input vs the pool image's features: %g", worst);
    T_CHECK(obs_same);
    T_EQ_INT(run_until(a, 24, 8), 0);
    T_CHECK(s->st.actor_steps >= 8 && isfinite(s->st.diag[DG_L_TRANSPORT]));
    T_CHECK(max_abs_diff(x->cenc->params, e0, n) == 0 && max_abs_diff(x->aenc->params, e0, n) == 0);
    // its checkpoint has no critic encoder Adam state: a run that trains that encoder refuses it
    struct ckpt *k = save_load(a, "cfrozen.ckpt");
    struct algo *same = make(&c);
    char err[400] = "";
    T_CHECK(k && same && rldt_ops.load(same, k, err, sizeof(err)) == 0);
    T_CHECK(same && ((struct rldt *)same)->px->same_enc);
    struct rl_config c2;
    config(&c2);
    c2.rldt_freeze_actor_encoder = true;
    struct algo *b = make(&c2);
    T_CHECK(k && b && rldt_ops.load(b, k, err, sizeof(err)) < 0);
    T_CHECK_MSG(strstr(err, "rldt.adam_enc_critic") != NULL, "%s", err);
    ckpt_destroy(&k);
    if (same)
        rldt_ops.destroy(same);
    if (b)
        rldt_ops.destroy(b);
    // only the critics' frozen: the actor's learns, the two differ, one pass no longer serves both
    config(&c2);
    c2.rldt_freeze_critic_encoder = true;
    struct algo *d = make(&c2);
    if (d) {
        struct rldt *sd = (struct rldt *)d;
        T_CHECK(!sd->px->same_enc);
        T_EQ_INT(run_until(d, 24, 4), 0);
        T_CHECK(max_abs_diff(sd->px->aenc->params, e0, n) > 0);
        T_CHECK(max_abs_diff(sd->px->cenc->params, e0, n) == 0);
        rldt_ops.destroy(d);
    }
    free(e0);
    free(q0);
    rldt_ops.destroy(a);
}

/* an asymmetric critic: the critics see the normalised state vector, the actor the camera */
static void test_state_critic(void)
{
    struct rl_config c;
    config(&c);
    c.rldt_state_critic = true;
    struct algo *a = make(&c);
    if (!a)
        return;
    struct rldt *s = (struct rldt *)a;
    struct rldt_pix *x = s->px;
    T_EQ_INT(s->Sc, s->S);
    T_EQ_INT(s->critic->in, s->S + s->D);
    T_CHECK(x->copt == NULL && x->pool_feat == NULL);
    size_t n = x->aenc->n_params;
    float *e0 = malloc(n * sizeof(float));
    memcpy(e0, x->cenc->params, n * sizeof(float));
    T_EQ_INT(run_until(a, 1, 0), 0);
    T_CHECK(isfinite(s->st.diag[DG_CRITIC_LOSS]));
    int same = 1;
    for (int o = 0; o < 2 * s->B; o++)
        same &= !memcmp(s->c_obs + (size_t)o * s->S, s->pool_obs + (size_t)s->c_rows[o] * s->S,
                        (size_t)s->S * sizeof(float));
    T_CHECK_MSG(same, "the critic step's inputs are not the pool rows' states");
    T_EQ_INT(run_until(a, 24, 8), 0);
    T_CHECK(isfinite(s->st.diag[DG_L_TRANSPORT]) && isfinite(s->st.diag[DG_Q_MEAN]));
    T_CHECK(max_abs_diff(x->aenc->params, e0, n) > 0); /* the actor's encoder still learns */
    // the critics' shape is the run's: an image-critic run refuses this checkpoint
    struct ckpt *k = save_load(a, "state.ckpt");
    struct algo *again = make(&c);
    char err[400] = "";
    T_CHECK(k && again && rldt_ops.load(again, k, err, sizeof(err)) == 0);
    struct rl_config c2;
    config(&c2);
    struct algo *b = make(&c2);
    T_CHECK(k && b && rldt_ops.load(b, k, err, sizeof(err)) < 0);
    fprintf(stderr, "  image-critic run on a state-critic checkpoint: %s\n", err);
    ckpt_destroy(&k);
    if (again)
        rldt_ops.destroy(again);
    if (b)
        rldt_ops.destroy(b);
    free(e0);
    rldt_ops.destroy(a);
}

static void test_checkpoint(void)
{
    struct rl_config c;
    config(&c);
    struct algo *a = make(&c), *b = make(&c);
    if (!a || !b)
        return;
    T_EQ_INT(run_until(a, 12, 3), 0);
    struct ckpt *k = save_load(a, "pix.ckpt");
    char err[400] = "";
    T_CHECK_MSG(k && rldt_ops.load(b, k, err, sizeof(err)) == 0, "%s", err);
    struct rldt *sa = (struct rldt *)a, *sb = (struct rldt *)b;
    size_t n = sa->px->aenc->n_params;
    T_CHECK(max_abs_diff(sa->px->aenc->params, sb->px->aenc->params, n) == 0);
    T_CHECK(max_abs_diff(sa->px->cenc->params, sb->px->cenc->params, n) == 0);
    T_CHECK(max_abs_diff(sa->px->copt->state, sb->px->copt->state, 2 * n) == 0);
    T_CHECK(max_abs_diff(sa->px->aopt->state, sb->px->aopt->state, 2 * n) == 0);
    T_CHECK(sb->px->tenc && max_abs_diff(sa->px->tenc->params, sb->px->tenc->params, n) == 0);
    T_EQ_INT(sb->px->copt->step, sa->px->copt->step);
    size_t np = rldt_ops.policy_size(a);
    float *wa = malloc(np * sizeof(float)), *wb = malloc(np * sizeof(float));
    rldt_ops.policy_export(a, wa);
    rldt_ops.policy_export(b, wb);
    T_CHECK(max_abs_diff(wa, wb, np) == 0);
    size_t ne = 0;
    T_CHECK(ckpt_get(k, "policy.encoder", &ne) && ne == sizeof(struct pixflow_file));
    // both go on training (a new round: the pool's images are not saved)
    T_EQ_INT(run_until(b, sb->st.critic_steps + 4, 0), 0);
    ckpt_destroy(&k);
    free(wa);
    free(wb);
    rldt_ops.destroy(a);
    rldt_ops.destroy(b);
}

static void test_refusals(void)
{
    struct rl_config c;
    config(&c);
    c.pixels = false;
    char err[600] = "";
    struct algo *a = rldt_ops.create(&c, &dims, err, sizeof(err));
    T_CHECK(a == NULL);
    T_CHECK_MSG(strstr(err, "pixels = true") != NULL, "%s", err);
    // the base loader of the state algorithms (sac, reinflow) refuses it with a reason
    config(&c);
    float *b = NULL;
    err[0] = 0;
    struct flow *f = algo_load_base(&c, &dims, "reinflow", &b, err, sizeof(err));
    T_CHECK(f == NULL);
    T_CHECK_MSG(strstr(err, "pixel policy") && strstr(err, "only rldt"), "%s", err);
    // another camera than the base policy's
    config(&c);
    snprintf(c.pixel_camera, sizeof(c.pixel_camera), "wrist");
    err[0] = 0;
    a = rldt_ops.create(&c, &dims, err, sizeof(err));
    T_CHECK(a == NULL);
    T_CHECK_MSG(strstr(err, "camera") != NULL, "%s", err);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(base_path, sizeof(base_path), "%s/base.rldt", dir);
    const struct task_info *t = task_find("lift");
    dims = (struct algo_dims){t->obs_dim, t->act_dim, H, H * t->act_dim};
    if (write_base() == 0) {
        fill_replay();
        T_RUN(test_export);
        T_RUN(test_encoders_learn);
        T_RUN(test_actor_encoder_lr);
        T_RUN(test_trust_encoder);
        T_RUN(test_frozen_actor_encoder);
        T_RUN(test_frozen_critic_encoder);
        T_RUN(test_state_critic);
        T_RUN(test_checkpoint);
        T_RUN(test_refusals);
    }
    replay_destroy(&rep);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return T_DONE("test_rldt_pixels");
}
