/*
 * critic.c — twin Q critics, their Polyak targets and AdamW optimisers, Q̄ from M policy
 * samples and the TD(λ) recursion (critic.h).
 *
 * Shapes: B rows, S obs columns, D chunk columns, critic input (B, S + D) = [obs | act].
 */
#include "learner/algo/critic.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/nn.h"
#include "common/optim.h"
#include "common/util.h"

static const char *const net_section[4] = {"critic.q1", "critic.q2", "critic.q1_targ",
                                           "critic.q2_targ"};
static const char *const opt_section[2] = {"critic.adamw_q1", "critic.adamw_q2"};

void critic_destroy(struct critic **p)
{
    struct critic *c = p ? *p : NULL;
    if (!c)
        return;
    for (int k = 0; k < 2; k++) {
        nn_destroy(&c->q[k]);
        nn_destroy(&c->targ[k]);
        optim_destroy(&c->opt[k]);
        nn_ctx_destroy(&c->ctx[k]);
    }
    free(c->qin);
    free(c->d_in);
    free(c->dq);
    free(c->qa);
    free(c->qb);
    free(c);
    *p = NULL;
}

struct critic *critic_new(const struct critic_config *cc, struct rng *init, char *err,
                          size_t errlen)
{
    if (cc->obs_dim < 1 || cc->D < 1 || cc->max_batch < 1 || !(cc->tau >= 0 && cc->tau <= 1)) {
        snprintf(err, errlen, "critic: bad sizes (obs %d, D %d, batch %d, tau %g)", cc->obs_dim,
                 cc->D, cc->max_batch, cc->tau);
        return NULL;
    }
    struct critic *c = calloc(1, sizeof(*c));
    if (!c)
        goto err_nomem;
    c->cfg = *cc;
    c->in = cc->obs_dim + cc->D;
    struct nn_spec sp;
    nn_spec_mlp(&sp, c->in, 1, cc->hidden, cc->depth, NN_ACT_SILU);
    struct optim_config oc;
    optim_config_default(&oc);
    oc.kind = OPTIM_ADAMW;
    oc.lr = cc->lr;
    oc.weight_decay = cc->weight_decay;
    for (int k = 0; k < 2; k++) {
        c->q[k] = nn_new(&sp, err, errlen);
        c->targ[k] = c->q[k] ? nn_new(&sp, err, errlen) : NULL;
        if (!c->targ[k]) {
            critic_destroy(&c);
            return NULL;
        }
        nn_init(c->q[k], init);
        nn_copy_params(c->targ[k], c->q[k]);
        c->opt[k] = optim_new(&oc, c->q[k]->n_params);
        c->ctx[k] = nn_ctx_new(c->q[k], cc->max_batch);
        if (!c->opt[k] || !c->ctx[k])
            goto err_free;
    }
    size_t B = (size_t)cc->max_batch;
    c->qin = malloc(B * c->in * sizeof(float));
    c->d_in = malloc(B * c->in * sizeof(float));
    c->dq = malloc(B * sizeof(float));
    c->qa = malloc(B * sizeof(float));
    c->qb = malloc(B * sizeof(float));
    if (!c->qin || !c->d_in || !c->dq || !c->qa || !c->qb)
        goto err_free;
    return c;

err_free:
    critic_destroy(&c);
err_nomem:
    snprintf(err, errlen, "critic: out of memory");
    return NULL;
}

// ---- evaluation ----------------------------------------------------------------------------

/* qin (B, S+D) = [obs | act] */
static void fill_qin(struct critic *c, const float *obs, const float *act, int B)
{
    int S = c->cfg.obs_dim, D = c->cfg.D;
    RL_ASSERT(B >= 1 && B <= c->cfg.max_batch);
    nn_copy_cols(c->qin, c->in, obs, S, B, S);
    nn_copy_cols(c->qin + S, c->in, act, D, B, D);
}

void critic_target_min(struct critic *c, const float *obs, const float *act, int B, float *q)
{
    fill_qin(c, obs, act, B);
    nn_infer(c->targ[0], c->ctx[0], c->qin, c->qa, B);
    nn_infer(c->targ[1], c->ctx[1], c->qin, c->qb, B);
    for (int i = 0; i < B; i++)
        q[i] = fminf(c->qa[i], c->qb[i]);
}

void critic_qbar(struct critic *c, const float *obs, const float *act, int P, int M, float *qbar)
{
    RL_ASSERT(M >= 1 && P >= 1);
    float *q = c->dq; /* scratch: P·M <= max_batch */
    critic_target_min(c, obs, act, P * M, q);
    for (int p = 0; p < P; p++) {
        double s = 0;
        for (int m = 0; m < M; m++)
            s += q[(size_t)p * M + m];
        qbar[p] = (float)(s / M);
    }
}

// ---- training ------------------------------------------------------------------------------

double critic_loss_grad(struct critic *c, int k, const float *obs, const float *act, const float *y,
                        int B, double *q_sum, float *d_obs)
{
    fill_qin(c, obs, act, B);
    struct nn *q = c->q[k];
    const float *qv = nn_forward(q, c->ctx[k], c->qin, B);
    double loss = 0, qs = 0;
    float scale = 2.0f / (float)B;
    for (int i = 0; i < B; i++) {
        float e = qv[i] - y[i];
        c->dq[i] = scale * e;
        loss += (double)e * e;
        qs += qv[i];
    }
    nn_zero_grad(q);
    nn_backward(q, c->ctx[k], c->dq, d_obs ? c->d_in : NULL);
    int S = c->cfg.obs_dim;
    for (int i = 0; d_obs && i < B; i++)
        memcpy(d_obs + (size_t)i * S, c->d_in + (size_t)i * c->in, (size_t)S * sizeof(float));
    *q_sum = qs;
    return loss / B;
}

bool critic_grads_finite(const struct critic *c)
{
    for (int k = 0; k < 2; k++)
        if (!isfinite(optim_grad_norm(c->q[k]->grads, c->q[k]->n_params)))
            return false;
    return true;
}

void critic_apply(struct critic *c)
{
    for (int k = 0; k < 2; k++) {
        optim_step(c->opt[k], c->q[k]->params, c->q[k]->grads);
        optim_polyak(c->targ[k]->params, c->q[k]->params, c->targ[k]->n_params, c->cfg.tau);
    }
}

void critic_action_grad(struct critic *c, const float *obs, const float *act, int B, float *g,
                        float *q)
{
    int S = c->cfg.obs_dim, D = c->cfg.D;
    fill_qin(c, obs, act, B);
    if (c->cfg.actor_min) { /* both forwards first: each row's weight picks the lower critic */
        memcpy(c->qa, nn_forward(c->q[0], c->ctx[0], c->qin, B), (size_t)B * sizeof(float));
        memcpy(c->qb, nn_forward(c->q[1], c->ctx[1], c->qin, B), (size_t)B * sizeof(float));
        for (int i = 0; i < B && q; i++)
            q[i] = RL_MIN(c->qa[i], c->qb[i]);
    }
    for (int k = 0; k < 2; k++) {
        if (c->cfg.actor_min) {
            for (int i = 0; i < B; i++) /* ties: the first critic */
                c->dq[i] = (k == 0) == (c->qa[i] <= c->qb[i]) ? 1.0f : 0.0f;
        } else {
            for (int i = 0; i < B; i++)
                c->dq[i] = 0.5f;
            const float *qv = nn_forward(c->q[k], c->ctx[k], c->qin, B);
            for (int i = 0; i < B && q; i++)
                q[i] = k ? q[i] + 0.5f * qv[i] : 0.5f * qv[i];
        }
        nn_backward_input(c->q[k], c->ctx[k], c->dq, c->d_in);
        const float *src = c->d_in + S;
        if (k == 0) {
            nn_copy_cols(g, D, src, c->in, B, D);
            continue;
        }
        for (int i = 0; i < B; i++)
            for (int j = 0; j < D; j++)
                g[(size_t)i * D + j] += src[(size_t)i * c->in + j];
    }
}

void critic_td_lambda(const float *rew, const float *disc, const float *qbar, const int *len, int P,
                      int L, float lambda, float *y)
{
    for (int p = 0; p < P; p++) {
        const float *r = rew + (size_t)p * L, *d = disc + (size_t)p * L, *q = qbar + (size_t)p * L;
        int n = len[p];
        RL_ASSERT(n >= 1 && n <= L);
        // the window's last step bootstraps from Q̄ only; earlier ones mix Q̄ and the return
        double g = d[n - 1] != 0 ? (double)r[n - 1] + (double)d[n - 1] * q[n - 1] : r[n - 1];
        for (int k = n - 2; k >= 0; k--)
            g = d[k] == 0 ? r[k]
                : critic_td_reads_qbar(lambda, k, n)
                    ? r[k] + d[k] * ((1.0 - lambda) * q[k] + lambda * g)
                    : r[k] + d[k] * g;
        y[p] = (float)g;
    }
}

// ---- checkpoint ----------------------------------------------------------------------------

uint64_t critic_hash(const struct critic *c)
{
    return c->q[0]->hash;
}

static struct nn *net_of(const struct critic *c, int i)
{
    return i < 2 ? c->q[i] : c->targ[i - 2];
}

int critic_save(struct critic *c, struct ckpt_writer *w)
{
    c->steps[0] = c->opt[0]->step;
    c->steps[1] = c->opt[1]->step;
    int rc = ckpt_add(w, "critic.steps", c->steps, sizeof(c->steps));
    for (int i = 0; !rc && i < 4; i++)
        rc = ckpt_add(w, net_section[i], net_of(c, i)->params,
                      net_of(c, i)->n_params * sizeof(float));
    for (int k = 0; !rc && k < 2; k++)
        rc = ckpt_add(w, opt_section[k], c->opt[k]->state, 2 * c->opt[k]->n * sizeof(float));
    return rc;
}

int critic_check(const struct critic *c, const struct ckpt *k, char *err, size_t errlen)
{
    for (int i = 0; i < 7; i++) {
        const char *name = i < 4 ? net_section[i] : i < 6 ? opt_section[i - 4] : "critic.steps";
        size_t need = i < 4   ? net_of(c, i)->n_params * sizeof(float)
                      : i < 6 ? 2 * c->opt[i - 4]->n * sizeof(float)
                              : sizeof(c->steps);
        size_t have = 0;
        if (!ckpt_get(k, name, &have)) {
            snprintf(err, errlen, "checkpoint section '%s' is missing", name);
            return -ENOENT;
        }
        if (have != need) {
            snprintf(err, errlen, "checkpoint section '%s' has %zu bytes, expected %zu", name, have,
                     need);
            return -EPROTO;
        }
    }
    return 0;
}

void critic_load(struct critic *c, const struct ckpt *k)
{
    char err[200];
    for (int i = 0; i < 4; i++)
        ckpt_read(k, net_section[i], net_of(c, i)->params, net_of(c, i)->n_params * sizeof(float),
                  err, sizeof(err));
    for (int j = 0; j < 2; j++)
        ckpt_read(k, opt_section[j], c->opt[j]->state, 2 * c->opt[j]->n * sizeof(float), err,
                  sizeof(err));
    ckpt_read(k, "critic.steps", c->steps, sizeof(c->steps), err, sizeof(err));
    c->opt[0]->step = (long)c->steps[0];
    c->opt[1]->step = (long)c->steps[1];
}
