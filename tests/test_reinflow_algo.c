/*
 * test_reinflow_algo.c — the ReinFlow baseline around its math: the actors' noisy sampler (its
 * log-likelihood equals the learner's recomputation from the same weights; deterministic
 * sampling is the plain flow), chains on the wire (round trip, bad lengths refused), chains in
 * the replay (newest version, chainless steps ignored), and the algorithm on a replay: it waits
 * for a full batch, trains on one policy version once, never on steps of a version it already
 * trained on (stale), recomputes the actors' log-likelihoods, and restores from a checkpoint;
 * the gradient of its policy loss (through flow and noise nets) against central differences.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/flow.h"
#include "common/nn.h"
#include "common/policy.h"
#include "common/reinflow_policy.h"
#include "common/rng.h"
#include "learner/algo.h"
#include "learner/algo/reinflow.h"
#include "learner/algo/reinflow_impl.h"
#include "learner/algo/reinflow_math.h"
#include "learner/replay.h"
#include "proto/wire.h"
#include "tests/algotest.h"
#include "tests/harness.h"

enum { S = 11, A = 3, H = 4, D = H * A, N = 4, C = (N + 1) * D, B = 8 };

static char err[512];

static void small_config(struct rl_config *c)
{
    algotest_config(c, "algo=reinflow flow_hidden=32 flow_depth=2 reinflow_noise_hidden=16 "
                       "reinflow_critic_hidden=32 reinflow_critic_depth=2 reinflow_batch=64 "
                       "reinflow_minibatch=32 reinflow_epochs=2 reinflow_actor_lr=1e-3 "
                       "reinflow_noise_lr=1e-3");
    c->chunk = H;
    c->flow_steps = N;
}

static struct flow *random_flow(const struct rl_config *c, uint64_t seed)
{
    struct flow_spec fs;
    T_EQ_INT(flow_spec_from_config(&fs, c, S, A, H, err, sizeof(err)), 0);
    struct flow *f = flow_new(&fs, err, sizeof(err));
    struct rng g;
    rng_init(&g, seed, 1);
    flow_init(f, &g);
    return f;
}

/* a sampler holding the algorithm's current policy weights */
static struct policy *sampler_of(const struct rl_config *c, const struct algo *a)
{
    const struct algo_ops *ops = algo_find("reinflow");
    struct policy_dims pd = {S, A, H};
    struct policy *p = policy_new("reinflow", c, &pd, B, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    size_t n = ops->policy_size(a);
    float *w = malloc(n * sizeof(float));
    ops->policy_export(a, w);
    T_EQ_INT(policy_set_params(p, w, n, ops->policy_layout(a), err, sizeof(err)), 0);
    free(w);
    return p;
}

// ---- the sampler ----------------------------------------------------------------------------

/* the learner's log-likelihood of one chain: μ_k, σ_k from the flow and noise nets */
static double learner_logp(const struct flow *f, const struct nn *noise, const float *chain,
                           const float *obs, float lo, float hi)
{
    struct flow_ctx *fc = flow_ctx_new(f, N, false);
    struct nn_ctx *nc = nn_ctx_new_infer(noise, N);
    float x[N * D], t[N], o[N * S], v[N * D], in[N * (D + 1 + S)], u[N * D], mu[N * D], sd[N * D];
    for (int k = 0; k < N; k++) {
        memcpy(x + k * D, chain + k * D, sizeof(float) * D);
        memcpy(o + k * S, obs, sizeof(float) * S);
        t[k] = (float)k / N;
    }
    flow_velocity(f, fc, x, t, o, v, N);
    reinflow_noise_rows(in, x, t, o, N, D, S);
    nn_infer(noise, nc, in, u, N);
    for (int j = 0; j < N * D; j++) {
        mu[j] = x[j] + v[j] / N;
        sd[j] = reinflow_bound_std(u[j], lo, hi);
    }
    flow_ctx_destroy(&fc);
    nn_ctx_destroy(&nc);
    return reinflow_chain_logp(chain, mu, sd, N, D, false, NULL, NULL);
}

static void test_sampler(void)
{
    struct rl_config c;
    small_config(&c);
    struct flow *f = random_flow(&c, 7);
    struct algo_dims dims = {S, A, H, D};
    struct algo *a = reinflow_new(&c, &dims, f, NULL, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "%s", err);
    struct policy *p = sampler_of(&c, a);
    T_EQ_INT(policy_chain_len(p), C);
    // the sampler's nets, rebuilt from the exported block as a learner would see them
    struct nn_spec ns;
    T_EQ_INT(reinflow_noise_spec(&ns, D, S, c.reinflow_noise_hidden), 0);
    struct nn *noise = nn_new(&ns, err, sizeof(err));
    size_t n = reinflow_ops.policy_size(a);
    float *w = malloc(n * sizeof(float));
    reinflow_ops.policy_export(a, w);
    T_EQ_INT((long)n, (long)(f->n_params + noise->n_params));
    memcpy(noise->params, w + f->n_params, noise->n_params * sizeof(float));

    struct rng g;
    rng_init(&g, 11, 2);
    float obs[B * S], act[B * D], ref[B * D];
    for (int i = 0; i < B * S; i++)
        obs[i] = (float)rng_normal(&g);
    policy_act(p, obs, B, &g, false, act);
    const float *chain, *logp;
    policy_chain(p, &chain, &logp);
    double worst = 0;
    for (int i = 0; i < B; i++) {
        const float *ch = chain + (size_t)i * C;
        for (int j = 0; j < D; j++) // the action is the clipped end of its chain
            T_NEAR(act[i * D + j], fminf(fmaxf(ch[N * D + j], -1), 1), 0);
        double lp = learner_logp(f, noise, ch, obs + i * S, (float)c.reinflow_std_min,
                                 (float)c.reinflow_std_max);
        worst = fmax(worst, fabs(lp - logp[i]));
        T_CHECK(isfinite(logp[i]) && logp[i] != 0);
    }
    printf("  max |actor logp - learner logp| = %.3g over %d chains\n", worst, B);
    T_CHECK(worst < 1e-3);
    // deterministic: the plain flow from x_0 = 0, no noise
    policy_act(p, obs, B, NULL, true, act);
    struct flow_ctx *fc = flow_ctx_new(f, B, false);
    float *fch = calloc((size_t)(N + 1) * B * D, sizeof(float));
    flow_sample(f, fc, obs, B, fch);
    flow_chain_actions(fch, N, B, D, NULL, ref);
    for (int i = 0; i < B * D; i++)
        T_NEAR(act[i], ref[i], 1e-5);
    free(fch);
    flow_ctx_destroy(&fc);
    free(w);
    nn_destroy(&noise);
    policy_destroy(&p);
    reinflow_ops.destroy(a);
    flow_destroy(&f);
}

// ---- chains on the wire and in the replay ---------------------------------------------------

static void test_wire_chain(void)
{
    enum { T = 3, O = 2, DD = 2, CL = 3 * DD };
    struct wire_segbuf b;
    T_EQ_INT(wire_segbuf_init(&b, O, DD, T), 0);
    T_EQ_INT(wire_segbuf_set_chain(&b, DD), -EINVAL);         // one state is no chain
    T_EQ_INT(wire_segbuf_set_chain(&b, DD * 3 + 1), -EINVAL); // not a multiple of D
    T_EQ_INT(wire_segbuf_set_chain(&b, CL), 0);
    float obs[O] = {0.5f, -0.5f}, act[DD] = {0.1f, 0.2f}, ch[CL];
    wire_segbuf_start(&b, obs, true);
    T_EQ_INT(wire_segbuf_chain(&b, ch, 0), -EINVAL); // no step yet
    for (int t = 0; t < T; t++) {
        T_EQ_INT(wire_segbuf_push(&b, act, 1.0f, 2, obs, false, false), 0);
        for (int j = 0; j < CL; j++)
            ch[j] = (float)(10 * t + j);
        T_EQ_INT(wire_segbuf_chain(&b, ch, -1.5f * t), 0);
    }
    struct wire_msg m = {.type = WIRE_SEGMENT}, o;
    wire_segbuf_view(&b, &m.segment);
    m.segment.run_epoch = 1;
    T_EQ_INT(wire_check(&(struct wire_msg){.version = WIRE_PROTOCOL_VERSION,
                                           .type = WIRE_SEGMENT,
                                           .segment = m.segment},
                        err, sizeof(err)),
             0);
    static uint8_t buf[1 << 16];
    size_t len = 0;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    T_CHECK(len <= wire_segment_bound(T, O, DD, 0) + wire_chain_bound(T, CL));
    struct wire_decoder *d = wire_decoder_new(1 << 20);
    T_EQ_INT(wire_decode(d, buf, len, &o, err, sizeof(err)), 0);
    T_EQ_INT(o.segment.chain_len, CL);
    T_CHECK(o.segment.chain && o.segment.chain[2 * CL + 5] == 25.0f);
    T_CHECK(o.segment.chain_logp && o.segment.chain_logp[2] == -3.0f);
    // a chain_len that is not k * D (k >= 2), or a non-finite chain, is refused
    static float big[64];
    m.segment.chain = big;
    m.segment.chain_len = 2 * DD + 1;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    T_EQ_INT(wire_decode(d, buf, len, &o, err, sizeof(err)), -EPROTO);
    T_CHECK(strstr(err, "chain_len") != NULL);
    m.version = WIRE_PROTOCOL_VERSION;
    T_EQ_INT(wire_check(&m, err, sizeof(err)), -EPROTO);
    m.segment.chain = b.chain;
    m.segment.chain_len = CL;
    b.chain[1] = NAN;
    m.version = WIRE_PROTOCOL_VERSION;
    T_EQ_INT(wire_check(&m, err, sizeof(err)), -EPROTO);
    T_CHECK(strstr(err, "chain") != NULL);
    // a segment without a chain still decodes, with none
    m.segment.chain_len = 0;
    m.segment.chain = m.segment.chain_logp = NULL;
    m.version = 0;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    T_EQ_INT(wire_decode(d, buf, len, &o, err, sizeof(err)), 0);
    T_EQ_INT(o.segment.chain_len, 0);
    T_CHECK(o.segment.chain == NULL);
    wire_decoder_destroy(&d);
    wire_segbuf_fini(&b);
}

/* add n chunk steps (segments of 8) of policy `version` acted by p on random states */
static void add_steps(struct replay *r, struct policy *p, uint64_t version, int n, bool chain,
                      uint64_t *traj, struct rng *g)
{
    float obs[(8 + 1) * S], act[8 * D], rew[8], ch[8 * C], lp[8];
    uint8_t term[8] = {0}, trunc[8] = {0};
    for (int done = 0; done < n; done += 8) {
        int T = n - done < 8 ? n - done : 8;
        for (int i = 0; i < (T + 1) * S; i++)
            obs[i] = (float)rng_normal(g);
        for (int t = 0; t < T; t++) {
            const float *c, *l;
            policy_act(p, obs + t * S, 1, g, false, act + t * D);
            policy_chain(p, &c, &l);
            memcpy(ch + t * C, c, sizeof(float) * C);
            lp[t] = l[0];
            rew[t] = act[t * D] - 0.5f * act[t * D + 1];
        }
        struct replay_segment seg = {.T = T,
                                     .obs = obs,
                                     .act = act,
                                     .rew = rew,
                                     .term = term,
                                     .trunc = trunc,
                                     .traj_id = (*traj)++,
                                     .version = version,
                                     .chain = chain ? ch : NULL,
                                     .logp = chain ? lp : NULL};
        T_EQ_INT(replay_add(r, &seg), 0);
    }
}

static void test_replay_chain(void)
{
    struct rl_config c;
    small_config(&c);
    struct flow *f = random_flow(&c, 3);
    struct algo_dims dims = {S, A, H, D};
    struct algo *a = reinflow_new(&c, &dims, f, NULL, err, sizeof(err));
    struct policy *p = sampler_of(&c, a);
    struct replay *r = replay_new(200, S, D);
    T_EQ_INT(replay_set_chain(r, 0), -EINVAL);
    T_EQ_INT(replay_set_chain(r, C), 0);
    T_EQ_INT(replay_chain_len(r), C);
    struct rng g;
    rng_init(&g, 5, 1);
    uint64_t traj = 0, v = 99;
    T_EQ_INT(replay_chain_latest(r, 0, 0, NULL, &v), 0);
    add_steps(r, p, 3, 20, true, &traj, &g);
    add_steps(r, p, 4, 12, true, &traj, &g);
    add_steps(r, p, 7, 16, false, &traj, &g); /* chainless steps never count */
    T_EQ_INT(replay_chain_latest(r, 0, 0, NULL, &v), 12);
    T_EQ_INT((int)v, 4);
    T_EQ_INT(replay_chain_latest(r, 5, 0, NULL, &v), 0); /* nothing that new */
    float *rows = calloc(12 * (2 * S + C + 6), sizeof(float));
    uint64_t tr[12];
    struct replay_chain_rows out = {rows,
                                    rows + 12 * S,
                                    rows + 24 * S,
                                    rows + 24 * S + 12,
                                    rows + 24 * S + 24,
                                    tr,
                                    rows + 24 * S + 36,
                                    rows + 24 * S + 36 + 12 * C};
    T_EQ_INT(replay_chain_latest(r, 4, 5, &out, &v), 12); /* copies 5, counts 12 */
    T_EQ_INT((int)tr[0], 3); /* the first segment of version 4 (segments 0..2 were version 3) */
    T_CHECK(out.logp[0] != 0 && isfinite(out.logp[0])); /* copied with its step */
    // eviction: the oldest steps leave with their chains
    add_steps(r, p, 4, 190, true, &traj, &g);
    T_EQ_INT(replay_chain_latest(r, 0, 0, NULL, &v), 190);
    free(rows);
    replay_destroy(&r);
    policy_destroy(&p);
    reinflow_ops.destroy(a);
    flow_destroy(&f);
}

// ---- the algorithm ----------------------------------------------------------------------------

static bool same_policy(const struct algo *a, const float *w)
{
    size_t n = reinflow_ops.policy_size(a);
    float *x = malloc(n * sizeof(float));
    reinflow_ops.policy_export(a, x);
    bool same = memcmp(x, w, n * sizeof(float)) == 0;
    free(x);
    return same;
}

static void test_iterations(void)
{
    struct rl_config c;
    small_config(&c);
    struct flow *f = random_flow(&c, 9);
    struct algo_dims dims = {S, A, H, D};
    struct algo *a = reinflow_new(&c, &dims, f, NULL, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "%s", err);
    T_EQ_INT(reinflow_ops.chain_len(a), C);
    struct replay *r = replay_new(1000, S, D);
    T_EQ_INT(replay_set_chain(r, C), 0);
    struct rng g;
    rng_init(&g, 13, 1);
    uint64_t traj = 0;
    struct algo_report rep = {0};
    size_t n = reinflow_ops.policy_size(a);
    float *w0 = malloc(n * sizeof(float));
    reinflow_ops.policy_export(a, w0);

    // version 1 (the first published): not a full batch yet, then one
    struct policy *p = sampler_of(&c, a);
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), -EAGAIN);
    add_steps(r, p, 1, 40, true, &traj, &g);
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), -EAGAIN);
    add_steps(r, p, 1, 40, true, &traj, &g);
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), 0);
    T_NEAR(algotest_report(&rep, "batch_version"), 1, 0);
    T_NEAR(algotest_report(&rep, "batch"), 64, 0);
    printf("  logp_gap %.3g clip_frac %.3f std_mean %.4f value_loss %.4f\n",
           algotest_report(&rep, "logp_gap"), algotest_report(&rep, "clip_frac"),
           algotest_report(&rep, "std_mean"), algotest_report(&rep, "value_loss"));
    T_CHECK(algotest_report(&rep, "logp_gap") < 1e-3); /* the actors' logp is recomputed */
    T_CHECK(algotest_report(&rep, "clip_frac") >= 0 && algotest_report(&rep, "clip_frac") <= 1);
    T_CHECK(algotest_report(&rep, "std_mean") >= c.reinflow_std_min - 1e-6 &&
            algotest_report(&rep, "std_mean") <= c.reinflow_std_max + 1e-6);
    T_NEAR(algotest_report(&rep, "nan_minibatches"), 0, 0);
    T_CHECK(!same_policy(a, w0)); /* flow and noise nets moved */

    // stale: more steps of version 1 (older than the version now acting) are never trained on
    add_steps(r, p, 1, 80, true, &traj, &g);
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), -EAGAIN);
    policy_destroy(&p);

    // version 2: a fresh batch trains
    p = sampler_of(&c, a);
    add_steps(r, p, 2, 64, true, &traj, &g);
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), 0);
    T_NEAR(algotest_report(&rep, "batch_version"), 2, 0);
    T_NEAR(algotest_report(&rep, "iterations"), 2, 0);
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), -EAGAIN);

    // checkpoint: a new instance restores the nets, optimisers and the trained version
    char path[] = "/tmp/rldt-rf-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct ckpt_writer *cw = ckpt_writer_new("CKPT", 1);
    T_EQ_INT(reinflow_ops.save(a, cw), 0);
    T_EQ_INT(ckpt_writer_save(cw, path, err, sizeof(err)), 0);
    ckpt_writer_destroy(&cw);
    struct ckpt *k = ckpt_load(path, "CKPT", 1, err, sizeof(err));
    T_CHECK_MSG(k != NULL, "%s", err);
    struct flow *f2 = random_flow(&c, 99);
    struct algo *b = reinflow_new(&c, &dims, f2, NULL, err, sizeof(err));
    reinflow_ops.policy_export(a, w0);
    T_CHECK(!same_policy(b, w0));
    T_EQ_INT(reinflow_ops.load(b, k, err, sizeof(err)), 0);
    T_CHECK(same_policy(b, w0));
    T_EQ_INT(reinflow_ops.train_step(b, r, &rep), -EAGAIN); /* version 2 was trained on */
    // a checkpoint of other networks is refused and changes nothing
    struct rl_config c3 = c;
    c3.reinflow_critic_hidden = 48;
    struct algo *e = reinflow_new(&c3, &dims, f2, NULL, err, sizeof(err));
    float *we = malloc(n * sizeof(float));
    reinflow_ops.policy_export(e, we);
    T_CHECK(reinflow_ops.load(e, k, err, sizeof(err)) < 0);
    T_CHECK(strstr(err, "reinflow") != NULL);
    T_CHECK(same_policy(e, we));
    ckpt_destroy(&k);
    unlink(path);

    free(we);
    free(w0);
    policy_destroy(&p);
    replay_destroy(&r);
    reinflow_ops.destroy(e);
    reinflow_ops.destroy(b);
    reinflow_ops.destroy(a);
    flow_destroy(&f2);
    flow_destroy(&f);
}

// the 4 largest-gradient parameters of a block: the policy loss's central differences agree
// (grads is a copy of the block's gradient; picked entries are zeroed)
static void check_fd(struct reinflow *s, float *params, float *grads, size_t n)
{
    long idx[16];
    for (int i = 0; i < 16; i++)
        idx[i] = i;
    for (int pick = 0; pick < 4; pick++) {
        size_t best = 0;
        for (size_t j = 0; j < n; j++)
            if (fabsf(grads[j]) > fabsf(grads[best]))
                best = j;
        double g = grads[best], parts[4];
        float keep = params[best], h = 1e-2f * fmaxf(fabsf(keep), 0.05f);
        params[best] = keep + h;
        double up = reinflow_policy_grad(s, idx, 16, parts);
        params[best] = keep - h;
        double dn = reinflow_policy_grad(s, idx, 16, parts);
        params[best] = keep;
        double fd = (up - dn) / (2.0 * h);
        printf("  param %zu: gradient %.6g, central difference %.6g\n", best, g, fd);
        T_NEAR(g, fd, 0.05 * fabs(fd) + 1e-6);
        grads[best] = 0; /* the next pick is another parameter */
    }
}

static void test_policy_gradient(void)
{
    struct rl_config c;
    small_config(&c);
    struct flow *f = random_flow(&c, 21);
    struct algo_dims dims = {S, A, H, D};
    struct algo *a = reinflow_new(&c, &dims, f, NULL, err, sizeof(err));
    struct replay *r = replay_new(1000, S, D);
    T_EQ_INT(replay_set_chain(r, C), 0);
    struct rng g;
    rng_init(&g, 17, 1);
    uint64_t traj = 0;
    struct policy *p = sampler_of(&c, a);
    add_steps(r, p, 1, 64, true, &traj, &g);
    struct algo_report rep = {0};
    T_EQ_INT(reinflow_ops.train_step(a, r, &rep), 0); /* a batch with advantages, old logps */
    struct reinflow *s = (struct reinflow *)a;
    s->clip = 100; /* no clipping: the loss is smooth in the parameters */
    s->ent = 0.05f;
    long idx[16];
    for (int i = 0; i < 16; i++)
        idx[i] = i;
    double parts[4];
    reinflow_policy_grad(s, idx, 16, parts);
    size_t na = s->actor->n_params, nn = s->noise->n_params;
    float *ga = malloc(na * sizeof(float)), *gn = malloc(nn * sizeof(float));
    memcpy(ga, s->actor->grads, na * sizeof(float));
    memcpy(gn, s->noise->grads, nn * sizeof(float));
    T_CHECK(isfinite(parts[0]) && parts[1] == 0);
    check_fd(s, s->actor->params, ga, na);
    check_fd(s, s->noise->params, gn, nn);
    free(ga);
    free(gn);
    policy_destroy(&p);
    replay_destroy(&r);
    reinflow_ops.destroy(a);
    flow_destroy(&f);
}

static void test_config_on_policy(void)
{
    struct rl_config c;
    small_config(&c);
    c.updates_per_step = 0.5;
    c.publish_every = 17;
    c.max_policy_lag = 3;
    c.warmup_steps = 500;
    c.replay_size = 1000;
    c.min_replay = 500; /* more than a batch: training would never start */
    T_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
    T_EQ_INT((int)c.min_replay, 64);
    T_NEAR(c.updates_per_step, 0, 0);
    T_EQ_INT(c.publish_every, 1);
    T_EQ_INT((int)c.max_policy_lag, 0);
    T_EQ_INT((int)c.warmup_steps, 0);
    c.reinflow_batch = 2000; /* more than the replay holds */
    T_EQ_INT(config_validate(&c, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "reinflow_batch") != NULL);
    T_EQ_INT(strcmp(policy_kind_for_algo("reinflow"), "reinflow"), 0);
}

int main(void)
{
    T_RUN(test_sampler);
    T_RUN(test_wire_chain);
    T_RUN(test_replay_chain);
    T_RUN(test_iterations);
    T_RUN(test_policy_gradient);
    T_RUN(test_config_on_policy);
    return T_DONE("reinflow_algo");
}
