/*
 * rldt_actor.c — the RLDT actor step (rldt.h): K chains per state, one random denoising step
 * per particle, the SVGD field (or ∇ₐQ for rldt-delta), and the transport / consistency /
 * trust-region losses through single network evaluations, over micro-batches of blk rows.
 * Thread-safety: the losses are pure; the step runs on the trainer thread only and works in
 * the instance's buffers (rldt_impl.h), allocating nothing.
 */
#include "learner/algo/rldt_impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/encoder.h"
#include "common/flow.h"
#include "common/log.h"
#include "common/optim.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/algo/critic.h"
#include "learner/algo/svgd.h"
#include "learner/replay.h"

/* sums of an actor step's micro-batches */
struct actor_acc {
    double grad, kernel, phi, alpha, bandwidth, diversity; /* weighted by particles or states */
    double l_transport, l_cons, l_trust;
};

// ---- the actor losses ----------------------------------------------------------------------

double rldt_loss_transport(const float *v, const float *phi, const float *t, int P, int D, int N,
                           double inv_n, float *d_v)
{
    double loss = 0;
    for (int i = 0; i < P; i++) {
        double c = inv_n / (N * (1.0 - t[i]));
        const float *vi = v + (size_t)i * D, *pi = phi + (size_t)i * D;
        float *gi = d_v + (size_t)i * D;
        double dot = 0;
        for (int k = 0; k < D; k++) {
            dot += (double)vi[k] * pi[k];
            gi[k] -= (float)(c * pi[k]);
        }
        loss -= c * dot;
    }
    return loss;
}

double rldt_loss_consistency(const float *x, const float *v, const float *t, const float *a, int P,
                             int D, int N, float w, double inv_n, float *d_v)
{
    double loss = 0;
    for (int i = 0; i < P; i++) {
        double u = 1.0 - t[i], nu = N * u;
        double c = w * inv_n / (nu * nu), g = 2.0 * c * u;
        size_t o = (size_t)i * D;
        double ss = 0;
        for (int k = 0; k < D; k++) {
            double e = x[o + k] + u * v[o + k] - a[o + k];
            ss += e * e;
            d_v[o + k] += (float)(g * e);
        }
        loss += c * ss;
    }
    return loss;
}

double rldt_loss_trust(const float *v, const float *v_old, int P, int D, float w, double inv_n,
                       float *d_v)
{
    double loss = 0, c = w * inv_n;
    size_t n = (size_t)P * D;
    for (size_t j = 0; j < n; j++) {
        double e = (double)v[j] - v_old[j];
        loss += e * e;
        d_v[j] += (float)(2.0 * c * e);
    }
    return c * loss;
}

// ---- actor step ----------------------------------------------------------------------------

/* φ (P, D) of the micro-batch's ns states: SVGD field, or ∇ₐQ at â for the delta variant */
static void transport_field(struct rldt *s, int ns, struct actor_acc *acc)
{
    int K = s->K, D = s->D, P = ns * K;
    if (!s->delta) {
        critic_action_grad(s->critic, s->s_cobs, s->s_act, P, s->a_g, NULL);
        struct svgd_stats st;
        svgd_field(s->a_ahat, s->s_act, s->a_g, ns, K, D, s->a_phi, s->work, &st);
        acc->grad += st.grad_norm * P;
        acc->kernel += st.kernel_grad_norm * P;
        acc->phi += st.phi_norm * P;
        acc->bandwidth += st.bandwidth * P;
        acc->alpha += st.alpha * ns;
    } else {
        critic_action_grad(s->critic, s->s_cobs, s->a_ahat, P, s->a_phi, NULL);
        for (int i = 0; i < P; i++) {
            double n2 = 0;
            for (int k = 0; k < D; k++)
                n2 += (double)s->a_phi[(size_t)i * D + k] * s->a_phi[(size_t)i * D + k];
            acc->grad += sqrt(n2);
            acc->phi += sqrt(n2);
        }
    }
    acc->diversity += svgd_diversity(s->s_act, ns, K, D) * ns;
}

/* from pixels, after a flow_backward of P particles of states s0..: their encoder gradient,
 * summed over each state's K particles into dfeat */
static void pix_obs_grad(struct rldt *s, int s0, int P)
{
    struct rldt_pix *x = s->px;
    if (!x || !x->aopt)
        return;
    flow_backward_obs(s->actor, s->tctx, x->dcond);
    for (int i = 0; i < P; i++) {
        float *g = x->dfeat + (size_t)(s0 + i / s->K) * x->F;
        const float *d = x->dcond + (size_t)i * x->W;
        for (int k = 0; k < x->F; k++)
            g[k] += d[k];
    }
}

/* trust region on P particles: x̃ = (1 − τ) z + τ a, τ = k/N, against the frozen copy */
static void trust_pass(struct rldt *s, int s0, int P, double inv_n, struct actor_acc *acc)
{
    int D = s->D, N = s->N;
    rng_normal_fill(&s->rng, s->a_xtil, (long)P * D);
    for (int i = 0; i < P; i++) {
        float tau = (float)rng_below(&s->rng, (uint64_t)N) / (float)N;
        s->a_tau[i] = tau;
        float *x = s->a_xtil + (size_t)i * D;
        const float *a = s->s_act + (size_t)i * D;
        for (int k = 0; k < D; k++)
            x[k] = (1.0f - tau) * x[k] + tau * a[k];
    }
    // from pixels with a learning encoder, the trust copy sees its own (old) encoder's features:
    // the trust region then holds the encoder too, not only the flow
    const struct rldt_pix *x = s->px;
    const float *tobs = s->s_obs;
    if (x && x->tenc) {
        for (int i = 0; i < P; i++)
            memcpy(x->t_obs + (size_t)i * x->W, x->a_tobs + (size_t)(s0 + i / s->K) * x->W,
                   (size_t)x->W * sizeof(float));
        tobs = x->t_obs;
    }
    flow_velocity(s->trust, s->sctx, s->a_xtil, s->a_tau, tobs, s->a_vold, P);
    const float *v = flow_forward(s->actor, s->tctx, s->a_xtil, s->a_tau, s->s_obs, P);
    memset(s->a_dv, 0, (size_t)P * D * sizeof(float));
    acc->l_trust += rldt_loss_trust(v, s->a_vold, P, D, s->w_trust, inv_n, s->a_dv);
    flow_backward(s->actor, s->tctx, s->a_dv, NULL, NULL);
    pix_obs_grad(s, s0, P);
}

/* gradients (accumulated into the actor's) of states s0..s0+ns's K particles each */
static void actor_micro(struct rldt *s, int s0, int ns, double inv_n, struct actor_acc *acc)
{
    int K = s->K, S = s->Sn, D = s->D, N = s->N, P = ns * K;
    const float *sobs = s->a_sobs + (size_t)s0 * S;
    for (int i = 0; i < P; i++)
        memcpy(s->s_obs + (size_t)i * S, sobs + (size_t)(i / K) * S, (size_t)S * sizeof(float));
    int Sc = s->Sc;
    const float *cobs = s->px ? s->px->a_csobs + (size_t)s0 * Sc : NULL;
    for (int i = 0; cobs && i < P; i++)
        memcpy(s->s_cobs + (size_t)i * Sc, cobs + (size_t)(i / K) * Sc, (size_t)Sc * sizeof(float));
    // K chains per state, and one denoising step k_i per particle from its own chain: the
    // Euler pass is also the training forward at x_{k_i} (no gradient through the chains)
    rng_normal_fill(&s->rng, s->chain, (long)P * D);
    for (int i = 0; i < P; i++) {
        s->a_k[i] = (int)rng_below(&s->rng, (uint64_t)N);
        s->a_t[i] = (float)s->a_k[i] / (float)N;
    }
    const float *v = flow_sample_forward(s->actor, s->tctx, s->s_obs, P, s->chain, s->a_k);
    flow_chain_actions(s->chain, N, P, D, NULL, s->s_act); /* a = clip(x_N) */
    for (int i = 0; i < P; i++)
        memcpy(s->a_xt + (size_t)i * D, s->chain + ((size_t)s->a_k[i] * P + i) * D,
               (size_t)D * sizeof(float));
    flow_expected_target(s->a_xt, s->a_t, v, P, D, s->a_ahat);
    transport_field(s, ns, acc);
    memset(s->a_dv, 0, (size_t)P * D * sizeof(float));
    acc->l_transport += rldt_loss_transport(v, s->a_phi, s->a_t, P, D, N, inv_n, s->a_dv);
    acc->l_cons +=
        rldt_loss_consistency(s->a_xt, v, s->a_t, s->s_act, P, D, N, s->w_cons, inv_n, s->a_dv);
    flow_backward(s->actor, s->tctx, s->a_dv, NULL, NULL);
    pix_obs_grad(s, s0, P);
    if (s->w_trust > 0)
        trust_pass(s, s0, P, inv_n, acc);
}

static void actor_diag(struct rldt *s, const struct actor_acc *acc)
{
    double P = (double)s->Ba * s->K, Ba = s->Ba;
    double *g = s->st.diag;
    g[DG_GRAD_Q] = acc->grad / P;
    g[DG_KERNEL_GRAD] = acc->kernel / P;
    g[DG_PHI] = acc->phi / P;
    g[DG_BANDWIDTH] = s->delta ? NAN : acc->bandwidth / P;
    g[DG_ALPHA] = acc->alpha / Ba;
    g[DG_DIVERSITY] = acc->diversity / Ba;
    g[DG_L_TRANSPORT] = acc->l_transport;
    g[DG_L_CONS] = acc->l_cons;
    g[DG_L_TRUST] = acc->l_trust;
}

/* the actor batch's states: a_sobs, and from pixels the critics' view a_csobs; 0 or -EAGAIN */
static int actor_batch(struct rldt *s, struct replay *r)
{
    int Ba = s->Ba;
    struct rldt_pix *x = s->px;
    if (replay_sample_img(r, &s->rng, Ba, s->fresh_frac, s->fresh_window, -1, &s->batch,
                          x ? x->a_img : NULL, NULL) != Ba)
        return -EAGAIN;
    if (!x) {
        norm_obs(s, s->batch.obs, s->a_sobs, Ba);
        return 0;
    }
    norm_obs(s, s->batch.obs, x->a_nobs, Ba);
    rldt_pix_cond(s, x->aenc, x->actx, x->a_img, x->a_nobs, NULL, Ba, s->a_sobs);
    if (x->state_critic) /* the critics see the states themselves */
        memcpy(x->a_csobs, x->a_nobs, (size_t)Ba * s->S * sizeof(float));
    else if (x->same_enc) /* the critics see what the actor sees */
        memcpy(x->a_csobs, s->a_sobs, (size_t)Ba * x->W * sizeof(float));
    else
        rldt_pix_cond(s, x->cenc, x->ictx, x->a_img, x->a_nobs, NULL, Ba, x->a_csobs);
    if (x->tenc)
        rldt_pix_cond(s, x->tenc, x->ictx, x->a_img, x->a_nobs, NULL, Ba, x->a_tobs);
    memset(x->dfeat, 0, (size_t)Ba * x->F * sizeof(float));
    return 0;
}

/* from pixels (unless frozen): the actor encoder's gradient of the step; its norm (0: none) */
static double pix_encoder_grad(struct rldt *s)
{
    struct rldt_pix *x = s->px;
    if (!x || !x->aopt)
        return 0;
    encoder_zero_grad(x->aenc);
    encoder_backward(x->aenc, x->actx, x->dfeat);
    return optim_grad_norm(x->aenc->grads, x->aenc->n_params);
}

int rldt_actor_update(struct rldt *s, struct replay *r)
{
    int Ba = s->Ba, per = s->blk / s->K;
    s->last = RLDT_LAST_ACTOR;
    if (actor_batch(s, r) < 0)
        return -EAGAIN;
    flow_zero_grad(s->actor);
    struct actor_acc acc = {0};
    double inv_n = 1.0 / ((double)Ba * s->K);
    for (int s0 = 0; s0 < Ba; s0 += per)
        actor_micro(s, s0, RL_MIN(per, Ba - s0), inv_n, &acc);
    s->st.actor_steps++;
    double gn = optim_grad_norm(s->actor->grads, s->actor->n_params) + pix_encoder_grad(s);
    if (!isfinite(acc.l_transport) || !isfinite(acc.l_cons) || !isfinite(acc.l_trust) ||
        !isfinite(gn)) {
        s->st.actor_skipped++;
        if (s->nonfinite++ == 0)
            log_warn("rldt: non-finite actor step %lld (transport %g consistency %g trust %g), "
                     "not applied",
                     (long long)s->st.actor_steps, acc.l_transport, acc.l_cons, acc.l_trust);
        return -EDOM;
    }
    optim_step(s->aopt, s->actor->params, s->actor->grads);
    if (s->px && s->px->aopt)
        optim_step(s->px->aopt, s->px->aenc->params, s->px->aenc->grads);
    if (s->aopt->step % s->trust_refresh == 0) {
        flow_copy_params(s->trust, s->actor);
        if (s->px && s->px->tenc)
            memcpy(s->px->tenc->params, s->px->aenc->params, s->px->aenc->n_params * sizeof(float));
    }
    actor_diag(s, &acc);
    return 0;
}
