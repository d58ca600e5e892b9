/*
 * reinflow_math.c — GAE, the noisy chain's log-likelihood, the bounded std and the clipped
 * PPO surrogate of the ReinFlow baseline (reinflow_math.h). Sums in double.
 */
#include "learner/algo/reinflow_math.h"

#include <math.h>
#include <stddef.h>

#include "common/reinflow_policy.h"

#define LOG_2PI 1.8378770664093453

void reinflow_gae(int T, const float *rew, const float *val, const float *next_val,
                  const float *term, const float *end, float gamma, float lambda, float *adv,
                  float *ret)
{
    double a = 0;
    for (int t = T - 1; t >= 0; t--) {
        double boot = term[t] != 0 ? 0.0 : (double)gamma * next_val[t];
        double delta = rew[t] + boot - val[t];
        double carry = (t == T - 1 || end[t] != 0) ? 0.0 : (double)gamma * lambda * a;
        a = delta + carry;
        adv[t] = (float)a;
        ret[t] = (float)(a + val[t]);
    }
}

float reinflow_bound_std(float u, float lo, float hi)
{
    return reinflow_std(u, lo, hi); /* the actors' sampler uses the same map */
}

float reinflow_bound_std_grad(float u, float lo, float hi)
{
    float th = tanhf(u);
    return (hi - lo) * 0.5f * (1.0f - th * th);
}

double reinflow_chain_logp(const float *x, const float *mu, const float *std, int N, int D,
                           bool with_x0, float *d_mu, float *d_std)
{
    double lp = 0;
    if (with_x0)
        for (int j = 0; j < D; j++)
            lp -= 0.5 * ((double)x[j] * x[j] + LOG_2PI);
    for (int k = 0; k < N; k++)
        for (int j = 0; j < D; j++) {
            size_t o = (size_t)k * D + j;
            double s = std[o], e = (double)x[o + D] - mu[o], z = e / s;
            lp -= 0.5 * (z * z + LOG_2PI) + log(s);
            if (d_mu)
                d_mu[o] = (float)(z / s);
            if (d_std)
                d_std[o] = (float)((z * z - 1.0) / s);
        }
    return lp;
}

double reinflow_ppo_loss(const double *logp, const double *logp_old, const float *adv, int n,
                         double eps, double *d_logp, double *clip_frac)
{
    double loss = 0;
    int clipped = 0;
    for (int i = 0; i < n; i++) {
        double r = exp(logp[i] - logp_old[i]), a = adv[i];
        double rc = r < 1 - eps ? 1 - eps : r > 1 + eps ? 1 + eps : r;
        clipped += rc != r;
        double plain = r * a, clip = rc * a;
        // the unclipped term is the minimum (or equal): it carries the gradient d(r A)/d logp
        bool live = plain <= clip;
        loss -= live ? plain : clip;
        d_logp[i] = live ? -plain / n : 0.0;
    }
    if (clip_frac)
        *clip_frac = n > 0 ? (double)clipped / n : 0;
    return n > 0 ? loss / n : 0;
}
