/*
 * rldt_trace.c — one critic step and one actor step written out with everything an independent
 * implementation needs to redo them (rldt.h rldt_trace): the networks before, the normalised
 * inputs, every random draw the steps made, and what the steps produced (targets, losses,
 * gradients, parameters after). The draws are replayed from a copy of the training RNG taken
 * before each step, in the order rldt_critic.c and rldt_actor.c make them.
 *
 * File: a sequence of records, each a text line "name type count\n" (type f = float32,
 * d = float64) followed by count little-endian values of that type.
 */
#include "learner/algo/rldt_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/flow.h"
#include "common/nn.h"
#include "common/optim.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/algo/critic.h"
#include "learner/replay.h"

static int put(FILE *f, const char *name, const float *x, size_t n)
{
    fprintf(f, "%s f %zu\n", name, n);
    return fwrite(x, sizeof(float), n, f) == n ? 0 : -EIO;
}

static int put_d(FILE *f, const char *name, double v)
{
    fprintf(f, "%s d 1\n", name);
    return fwrite(&v, sizeof(v), 1, f) == 1 ? 0 : -EIO;
}

static int put_nets(FILE *f, const struct rldt *s, const char *when)
{
    const struct critic *c = s->critic;
    const struct nn *net[4] = {c->q[0], c->q[1], c->targ[0], c->targ[1]};
    const char *tag[4] = {"q0", "q1", "t0", "t1"};
    char name[64];
    int rc = 0;
    for (int i = 0; !rc && i < 4; i++) {
        snprintf(name, sizeof(name), "%s_%s", tag[i], when);
        rc = put(f, name, net[i]->params, net[i]->n_params);
    }
    snprintf(name, sizeof(name), "actor_%s", when);
    if (!rc)
        rc = put(f, name, s->actor->params, s->actor->n_params);
    snprintf(name, sizeof(name), "trust_%s", when);
    return rc ? rc : put(f, name, s->trust->params, s->trust->n_params);
}

static int put_config(FILE *f, const struct rldt *s)
{
    const struct flow_spec *fs = &s->actor->spec;
    const struct critic_config *cc = &s->critic->cfg;
    const struct optim_config *ac = &s->aopt->cfg;
    const char *name[] = {"S",        "A",        "chunk",       "N",          "K",
                          "Ba",       "B",        "M",           "L",          "lambda",
                          "w_cons",   "w_trust",  "flow_hidden", "flow_depth", "flow_temb",
                          "c_hidden", "c_depth",  "c_lr",        "c_wd",       "tau",
                          "a_lr",     "a_warmup", "beta1",       "beta2",      "eps",
                          "pool",     "c_beta1",  "c_beta2",     "c_eps"};
    const struct optim_config *qc = &s->critic->opt[0]->cfg;
    double v[] = {s->S,
                  s->A,
                  s->d.chunk,
                  s->N,
                  s->K,
                  s->Ba,
                  s->B,
                  s->M,
                  s->L,
                  s->lambda,
                  s->w_cons,
                  s->w_trust,
                  fs->hidden,
                  fs->depth,
                  fs->temb,
                  cc->hidden,
                  cc->depth,
                  cc->lr,
                  cc->weight_decay,
                  cc->tau,
                  ac->lr,
                  (double)ac->warmup,
                  ac->beta1,
                  ac->beta2,
                  ac->eps,
                  s->pool,
                  qc->beta1,
                  qc->beta2,
                  qc->eps};
    int rc = 0;
    for (size_t i = 0; !rc && i < RL_ARRAY_LEN(v); i++)
        rc = put_d(f, name[i], v[i]);
    return rc;
}

/* the target noise of a round: its batches' draws replayed on g, then one fill per block */
static int put_critic_draws(FILE *f, struct rldt *s, struct replay *r, struct rng *g)
{
    int P = s->pool, B = s->B, M = s->M, per = s->blk / s->M, nq = 0;
    for (int h = 0; h < 2; h++)
        for (int b0 = 0; b0 < P; b0 += B)
            replay_sample(r, g, B, s->fresh_frac, s->fresh_window, h, &s->batch);
    for (int p = 0; p < 2 * P; p++)
        for (int k = 0; k < s->w_len[p]; k++)
            nq += s->w_disc[(size_t)p * s->L + k] != 0;
    float *noise = malloc(((size_t)nq * M + 1) * s->D * sizeof(float));
    if (!noise)
        return -ENOMEM;
    for (int q0 = 0; q0 < nq; q0 += per) {
        long n = (long)RL_MIN(per, nq - q0) * M * s->D;
        rng_normal_fill(g, noise + (size_t)q0 * M * s->D, n);
    }
    int rc = put(f, "c_noise", noise, (size_t)nq * M * s->D);
    free(noise);
    return rc;
}

static int put_critic_step(FILE *f, struct rldt *s, struct replay *r, struct rng *g)
{
    size_t P2 = 2 * (size_t)s->pool, W = P2 * s->L, B2 = 2 * (size_t)s->B;
    float *len = malloc(P2 * sizeof(float));
    if (!len)
        return -ENOMEM;
    for (size_t p = 0; p < P2; p++)
        len[p] = (float)s->w_len[p];
    int rc = put(f, "w_len", len, P2);
    free(len);
    const struct {
        const char *name;
        const float *x;
        size_t n;
    } a[] = {{"w_next", s->w_next, W * s->S},
             {"w_rew", s->w_rew, W},
             {"w_disc", s->w_disc, W},
             {"pool_y", s->pool_y, P2},
             {"c_obs", s->c_obs, B2 * s->S},
             {"c_act", s->c_act, B2 * s->D},
             {"c_y", s->c_y, B2},
             {"w_qbar", s->w_qbar, W},
             {"q0_grad", s->critic->q[0]->grads, s->critic->q[0]->n_params},
             {"q1_grad", s->critic->q[1]->grads, s->critic->q[1]->n_params}};
    for (size_t i = 0; !rc && i < RL_ARRAY_LEN(a); i++)
        rc = put(f, a[i].name, a[i].x, a[i].n);
    if (!rc)
        rc = put_d(f, "critic_loss", s->st.diag[DG_CRITIC_LOSS]);
    return rc ? rc : put_critic_draws(f, s, r, g);
}

/* the actor step's draws replayed on g: per micro-batch chain noise, steps, trust noise, τ */
static int put_actor_draws(FILE *f, struct rldt *s, struct replay *r, struct rng *g)
{
    int Ba = s->Ba, K = s->K, D = s->D, per = s->blk / K;
    size_t P = (size_t)Ba * K;
    float *buf = malloc(2 * P * (D + 1) * sizeof(float));
    if (!buf)
        return -ENOMEM;
    float *noise = buf, *xtil = noise + P * D, *kk = xtil + P * D, *tk = kk + P;
    replay_sample(r, g, Ba, s->fresh_frac, s->fresh_window, -1, &s->batch);
    for (int s0 = 0; s0 < Ba; s0 += per) {
        size_t o = (size_t)s0 * K, n = (size_t)RL_MIN(per, Ba - s0) * K;
        rng_normal_fill(g, noise + o * D, (long)(n * D));
        for (size_t i = 0; i < n; i++)
            kk[o + i] = (float)rng_below(g, (uint64_t)s->N);
        if (s->w_trust <= 0)
            continue;
        rng_normal_fill(g, xtil + o * D, (long)(n * D));
        for (size_t i = 0; i < n; i++)
            tk[o + i] = (float)rng_below(g, (uint64_t)s->N);
    }
    int rc = put(f, "a_noise", noise, P * D);
    rc = rc ? rc : put(f, "a_k", kk, P);
    rc = rc ? rc : put(f, "a_xtil", xtil, P * D);
    rc = rc ? rc : put(f, "a_tau", tk, P);
    free(buf);
    return rc;
}

static int put_actor_step(FILE *f, struct rldt *s, struct replay *r, struct rng *g)
{
    int rc = put(f, "a_sobs", s->a_sobs, (size_t)s->Ba * s->S);
    rc = rc ? rc : put(f, "actor_grad", s->actor->grads, s->actor->n_params);
    const char *name[] = {"l_transport", "l_cons", "l_trust", "alpha", "bandwidth"};
    int dg[] = {DG_L_TRANSPORT, DG_L_CONS, DG_L_TRUST, DG_ALPHA, DG_BANDWIDTH};
    for (size_t i = 0; !rc && i < RL_ARRAY_LEN(dg); i++)
        rc = put_d(f, name[i], s->st.diag[dg[i]]);
    return rc ? rc : put_actor_draws(f, s, r, g);
}

int rldt_trace(struct algo *a, struct replay *r, FILE *f)
{
    struct rldt *s = to_rldt(a);
    if (s->delta || s->px || s->st.critic_steps || s->st.actor_steps)
        return -EINVAL; /* the reference implementation has no pixel variant */
    int rc = put_config(f, s);
    rc = rc ? rc : put_nets(f, s, "0");
    struct rng g = s->rng;
    if (!rc)
        rc = rldt_critic_update(s, r);
    rc = rc ? rc : put_critic_step(f, s, r, &g);
    rc = rc ? rc : put_nets(f, s, "1");
    // an untraced actor step first, so that the trust-region copy differs from the actor
    if (!rc)
        rc = rldt_actor_update(s, r);
    rc = rc ? rc : put_nets(f, s, "a");
    rc = rc ? rc : put(f, "adam_state", s->aopt->state, 2 * s->aopt->n);
    rc = rc ? rc : put_d(f, "adam_step", (double)s->aopt->step);
    g = s->rng;
    if (!rc)
        rc = rldt_actor_update(s, r);
    rc = rc ? rc : put_actor_step(f, s, r, &g);
    rc = rc ? rc : put_nets(f, s, "2");
    if (!rc && fflush(f) != 0)
        rc = -EIO;
    return rc;
}
