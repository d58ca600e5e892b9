/*
 * test_flow.c — flow policy math: gradients of the velocity net (parameters of both nets,
 * inputs, time) against finite differences, Euler chain against a naive per-row reference,
 * chain end == returned action, the sampling pass that doubles as the training forward,
 * reproducible sampling, exploration noise, expected target, policy files (round trip, damaged and
 * wrong-shape files refused).
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
#include "common/rng.h"
#include "common/task.h"
#include "tests/algotest.h"
#include "tests/harness.h"

static struct flow_spec tiny_spec(void)
{
    struct flow_spec s = {
        .obs_dim = 3, .act_dim = 2, .chunk = 2, .hidden = 8, .depth = 3, .temb = 4, .steps = 4};
    return s;
}

static struct flow *tiny_flow(uint64_t seed)
{
    struct flow_spec s = tiny_spec();
    char err[200];
    struct flow *f = flow_new(&s, err, sizeof(err));
    struct rng r;
    rng_init(&r, seed, 0);
    if (f)
        flow_init(f, &r);
    return f;
}

// L = Σ w ⊙ v(x, t | obs), in double
static double loss_of(struct flow *f, struct flow_ctx *cx, const float *x, const float *t,
                      const float *obs, const float *w, int B)
{
    const float *v = flow_forward(f, cx, x, t, obs, B);
    double L = 0;
    for (int i = 0; i < B * f->D; i++)
        L += (double)w[i] * v[i];
    return L;
}

// the inputs of loss_of, for central differences
struct fd_in {
    struct flow *f;
    struct flow_ctx *cx;
    const float *x, *t, *obs, *w;
    int B;
};

// (L(v + eps) - L(v - eps)) / 2 eps for v one of the inputs or a parameter (restored after)
static double central(const struct fd_in *in, float *v, float eps)
{
    float v0 = *v;
    *v = v0 + eps;
    double lp = loss_of(in->f, in->cx, in->x, in->t, in->obs, in->w, in->B);
    *v = v0 - eps;
    double lm = loss_of(in->f, in->cx, in->x, in->t, in->obs, in->w, in->B);
    *v = v0;
    return (lp - lm) / (2.0 * eps);
}

static bool grad_ok(double g, double fd)
{
    return fabs(g - fd) <= 3e-3 + 3e-2 * fabs(g);
}

static void test_gradients(void)
{
    struct flow *f = tiny_flow(1);
    T_CHECK(f != NULL);
    if (!f)
        return;
    enum { B = 3 };
    int D = f->D, O = f->spec.obs_dim;
    float x[B * 4], obs[B * 3], t[B] = {0.1f, 0.45f, 0.83f}, w[B * 4];
    struct rng r;
    rng_init(&r, 7, 0);
    rng_normal_fill(&r, x, B * D);
    rng_normal_fill(&r, obs, B * O);
    rng_normal_fill(&r, w, B * D);
    struct flow_ctx *cx = flow_ctx_new(f, B, true);
    T_CHECK(cx != NULL);
    flow_zero_grad(f);
    loss_of(f, cx, x, t, obs, w, B);
    float dx[B * 4], dt[B];
    flow_backward(f, cx, w, dx, dt);
    struct fd_in in = {f, cx, x, t, obs, w, B};

    // every parameter of both nets (time net first in the block); a ReLU kink inside the
    // finite-difference interval spoils one estimate, so two step sizes are tried
    int bad = 0;
    double worst = 0;
    for (size_t k = 0; k < f->n_params; k++) {
        double fd[2];
        float steps[2] = {1e-3f, 2.5e-4f};
        for (int e = 0; e < 2; e++)
            fd[e] = central(&in, &f->params[k], steps[e]);
        double d = fmin(fabs(fd[0] - f->grads[k]), fabs(fd[1] - f->grads[k]));
        worst = fmax(worst, d);
        if (!grad_ok(f->grads[k], fd[0]) && !grad_ok(f->grads[k], fd[1])) {
            printf("param %zu: grad %g fd %g %g\n", k, f->grads[k], fd[0], fd[1]);
            bad++;
        }
    }
    printf("param grads: %zu checked (time net %zu), max |diff| %.3g, bad %d\n", f->n_params,
           f->tnet->n_params, worst, bad);
    T_EQ_INT(bad, 0);
    float eps = 1e-3f;
    // the time net really receives gradient
    double tn = 0;
    for (size_t k = 0; k < f->tnet->n_params; k++)
        tn += fabs(f->grads[k]);
    T_CHECK(tn > 1e-4);

    // inputs x and time t
    bad = 0;
    for (int i = 0; i < B * D; i++)
        bad += !grad_ok(dx[i], central(&in, &x[i], eps));
    T_EQ_INT(bad, 0);
    // the observation input (what an image encoder in front of the flow receives)
    float dobs[B * 3];
    flow_backward_obs(f, cx, dobs);
    bad = 0;
    for (int i = 0; i < B * O; i++) {
        float o0 = obs[i];
        obs[i] = o0 + eps;
        double lp = loss_of(f, cx, x, t, obs, w, B);
        obs[i] = o0 - eps;
        double lm = loss_of(f, cx, x, t, obs, w, B);
        obs[i] = o0;
        bad += !grad_ok(dobs[i], (lp - lm) / (2.0 * eps));
    }
    T_EQ_INT(bad, 0);
    float et = 1e-4f; /* frequencies reach 1000 rad per unit time */
    for (int i = 0; i < B; i++) {
        double fd = central(&in, &t[i], et);
        T_CHECK_MSG(fabs(dt[i] - fd) <= 2e-2 + 3e-2 * fabs(fd), "dt[%d] %g vs fd %g", i, dt[i], fd);
    }
    flow_ctx_destroy(&cx);
    flow_destroy(&f);
}

static void test_sampler_matches_reference(void)
{
    struct flow *f = tiny_flow(2);
    enum { B = 5 };
    int N = f->spec.steps, D = f->D, O = f->spec.obs_dim;
    float obs[B * 3], chain[(4 + 1) * B * 4];
    struct rng r;
    rng_init(&r, 3, 0);
    rng_normal_fill(&r, obs, B * O);
    rng_normal_fill(&r, chain, B * D);
    struct flow_ctx *cx = flow_ctx_new(f, B, false);
    flow_sample(f, cx, obs, B, chain);

    // naive reference: one row at a time, x += v(x, k/N)/N through flow_velocity
    struct flow_ctx *c1 = flow_ctx_new(f, 1, true);
    double worst = 0;
    for (int i = 0; i < B; i++) {
        float x[4], v[4];
        memcpy(x, chain + i * D, sizeof(x));
        for (int k = 0; k < N; k++) {
            float tk = (float)k / N;
            flow_velocity(f, c1, x, &tk, obs + i * O, v, 1);
            for (int j = 0; j < D; j++) {
                x[j] += v[j] / N;
                worst = fmax(worst, fabs(x[j] - chain[(size_t)(k + 1) * B * D + i * D + j]));
            }
        }
        // the training forward gives the same velocities
        float t0 = 0.0f;
        const float *vf = flow_forward(f, c1, chain + i * D, &t0, obs + i * O, 1);
        flow_velocity(f, c1, chain + i * D, &t0, obs + i * O, v, 1);
        for (int j = 0; j < D; j++)
            T_NEAR(vf[j], v[j], 1e-5);
    }
    printf("batched Euler chain vs per-row reference: max |diff| %.3g\n", worst);
    T_CHECK(worst < 1e-5);
    flow_ctx_destroy(&c1);
    flow_ctx_destroy(&cx);
    flow_destroy(&f);
}

/* grads, d_x and d_t of L = Σ w ⊙ v after a forward already on cx */
static void backward_of(struct flow *f, struct flow_ctx *cx, const float *w, float *g, float *dx,
                        float *dt)
{
    flow_zero_grad(f);
    flow_backward(f, cx, w, dx, dt);
    memcpy(g, f->grads, f->n_params * sizeof(float));
}

/* the sampling pass that is also the forward at drawn steps equals flow_sample + flow_forward */
static void test_sample_forward(void)
{
    struct flow *f = tiny_flow(4);
    enum { B = 9, NS = 4, DD = 4, OO = 3 };
    int D = f->D, N = f->spec.steps;
    int step[B] = {2, 0, 3, 2, 1, 0, 2, 3, 2}; /* unsorted, repeats; step 1 drawn once */
    float obs[B * OO], c1[(NS + 1) * B * DD], c2[(NS + 1) * B * DD], w[B * DD];
    float xt[B * DD], t[B], v1[B * DD], dx1[B * DD], dx2[B * DD], dt1[B], dt2[B];
    struct rng r;
    rng_init(&r, 7, 0);
    rng_normal_fill(&r, obs, B * OO);
    rng_normal_fill(&r, c1, B * D);
    rng_normal_fill(&r, w, B * D);
    memcpy(c2, c1, sizeof(float) * B * D);
    struct flow_ctx *cs = flow_ctx_new(f, B, false), *ct = flow_ctx_new(f, B, true);
    float *g1 = calloc(f->n_params, sizeof(float)), *g2 = calloc(f->n_params, sizeof(float));
    T_CHECK(cs && ct && g1 && g2);
    // reference: the chain, then the forward of each row at its drawn step
    flow_sample(f, cs, obs, B, c1);
    for (int i = 0; i < B; i++) {
        t[i] = (float)step[i] / N;
        memcpy(xt + i * D, c1 + ((size_t)step[i] * B + i) * D, sizeof(float) * D);
    }
    memcpy(v1, flow_forward(f, ct, xt, t, obs, B), sizeof(v1));
    backward_of(f, ct, w, g1, dx1, dt1);
    // one pass
    const float *v2 = flow_sample_forward(f, ct, obs, B, c2, step);
    double dc = 0, dv = 0, dg = 0, dd = 0;
    for (int j = 0; j < (N + 1) * B * D; j++)
        dc = fmax(dc, fabs(c1[j] - c2[j]));
    for (int j = 0; j < B * D; j++)
        dv = fmax(dv, fabs(v1[j] - v2[j]));
    backward_of(f, ct, w, g2, dx2, dt2);
    for (size_t j = 0; j < f->n_params; j++)
        dg = fmax(dg, fabs(g1[j] - g2[j]) / (1e-3 + fabs(g1[j])));
    for (int j = 0; j < B * D; j++)
        dd = fmax(dd, fabs(dx1[j] - dx2[j]));
    for (int i = 0; i < B; i++)
        dd = fmax(dd, fabs(dt1[i] - dt2[i]) / (1e-3 + fabs(dt1[i])));
    printf("sample+forward in one pass vs separate: chain %.3g, v %.3g, grads %.3g (rel), d_x/d_t "
           "%.3g\n",
           dc, dv, dg, dd);
    T_CHECK(dc < 1e-5 && dv < 1e-5 && dg < 1e-4 && dd < 1e-4);
    // a plain flow_forward on the same ctx afterwards is unpermuted again
    memcpy(v1, flow_forward(f, ct, xt, t, obs, B), sizeof(v1));
    backward_of(f, ct, w, g2, dx2, dt2);
    for (size_t j = 0; j < f->n_params; j++)
        T_NEAR(g2[j], g1[j], 1e-5 + 1e-5 * fabs(g1[j]));
    free(g1);
    free(g2);
    flow_ctx_destroy(&cs);
    flow_ctx_destroy(&ct);
    flow_destroy(&f);
}

// a config for a tiny flow policy on hopper (O 11, A 3)
static void tiny_config(struct rl_config *c, int chunk)
{
    algotest_config(c, "algo=rldt env=hopper flow_hidden=16 flow_depth=2 flow_temb=4 flow_steps=5");
    c->chunk = chunk;
}

static void test_policy_chain_end_is_action(void)
{
    struct rl_config c;
    tiny_config(&c, 2);
    struct policy_dims d = {11, 3, 2};
    char err[300];
    enum { B = 6 };
    struct policy *p = policy_new("flow", &c, &d, B, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    if (!p)
        return;
    struct flow_spec s;
    T_EQ_INT(flow_spec_from_config(&s, &c, 11, 3, 2, err, sizeof(err)), 0);
    struct flow *f = flow_new(&s, err, sizeof(err));
    struct rng r;
    rng_init(&r, 5, 0);
    flow_init(f, &r);
    T_EQ_INT(policy_nparams(p), f->n_params);
    T_CHECK(policy_layout(p) == f->layout);
    T_EQ_INT(policy_set_params(p, f->params, f->n_params, f->layout, err, sizeof(err)), 0);

    float obs[B * 11], a1[B * 6], a2[B * 6], chain[6 * B * 6];
    rng_normal_fill(&r, obs, B * 11);
    policy_act(p, obs, B, &r, true, a1);
    policy_act(p, obs, B, &r, true, a2);
    T_CHECK(memcmp(a1, a2, sizeof(a1)) == 0); /* deterministic: reproducible */
    memset(chain, 0, sizeof(float) * B * 6);
    struct flow_ctx *cx = flow_ctx_new(f, B, false);
    flow_sample(f, cx, obs, B, chain);
    int same = 0, inside = 0;
    for (int j = 0; j < B * 6; j++) {
        float xN = chain[5 * B * 6 + j];
        float want = xN < -1 ? -1 : xN > 1 ? 1 : xN;
        same += fabsf(a1[j] - want) <= 1e-5f; /* the policy may run the packed small-batch path */
        inside += xN >= -1 && xN <= 1;
    }
    T_EQ_INT(same, B * 6);
    T_CHECK(inside > 0);
    // stochastic: same rng state → same actions, another state → different ones
    struct rng r1, r2;
    rng_init(&r1, 9, 1);
    r2 = r1;
    policy_act(p, obs, B, &r1, false, a1);
    policy_act(p, obs, B, &r2, false, a2);
    T_CHECK(memcmp(a1, a2, sizeof(a1)) == 0);
    policy_act(p, obs, B, &r1, false, a2);
    T_CHECK(memcmp(a1, a2, sizeof(a1)) != 0);
    for (int j = 0; j < B * 6; j++)
        T_CHECK(a1[j] >= -1 && a1[j] <= 1);
    flow_ctx_destroy(&cx);
    flow_destroy(&f);
    policy_destroy(&p);
}

static void test_exploration_and_target(void)
{
    enum { N = 4, B = 2, D = 3 };
    float chain[(N + 1) * B * D];
    struct rng r;
    rng_init(&r, 11, 0);
    for (int i = 0; i < (N + 1) * B * D; i++)
        chain[i] = 0.1f * (float)rng_normal(&r);
    // expected target at k = N−1 from the chain's own velocity is exactly x_N
    float t1[B] = {(float)(N - 1) / N, (float)(N - 1) / N}, v[B * D], ahat[B * D];
    const float *x1 = chain + (N - 1) * B * D, *xN = chain + N * B * D, *x2 = chain + 2 * B * D;
    for (int j = 0; j < B * D; j++)
        v[j] = N * (xN[j] - x1[j]);
    flow_expected_target(x1, t1, v, B, D, ahat);
    for (int j = 0; j < B * D; j++)
        T_NEAR(ahat[j], xN[j], 1e-6);
    // noise scale ‖x_N − â_{N−2}‖ per row with â_{N−2} = x_{N−2} + (2/N) v_{N−2}
    float a[B * D];
    struct rng rc = r;
    flow_chain_actions(chain, N, B, D, &r, a);
    for (int i = 0; i < B; i++) {
        double ss = 0;
        for (int j = 0; j < D; j++) {
            double v2 = N * ((double)x1[i * D + j] - x2[i * D + j]);
            double ah = x2[i * D + j] + 2.0 / N * v2;
            ss += (xN[i * D + j] - ah) * (xN[i * D + j] - ah);
        }
        for (int j = 0; j < D; j++) {
            double want = xN[i * D + j] + sqrt(ss) * rng_normal(&rc);
            want = want < -1 ? -1 : want > 1 ? 1 : want;
            T_NEAR(a[i * D + j], want, 1e-5);
        }
    }
    // no rng: the clipped chain end
    flow_chain_actions(chain, N, B, D, NULL, a);
    for (int j = 0; j < B * D; j++)
        T_NEAR(a[j], xN[j], 0);
}

static void test_spec_and_layout(void)
{
    struct flow_spec s = tiny_spec(), s2 = s;
    char err[200];
    T_EQ_INT(flow_spec_check(&s, err, sizeof(err)), 0);
    s2.steps = 8;
    T_CHECK(flow_spec_layout(&s) != flow_spec_layout(&s2));
    T_CHECK(flow_spec_net_hash(&s) == flow_spec_net_hash(&s2));
    s2 = s;
    s2.chunk = 1;
    s2.act_dim = 4; /* same D, other chunking */
    T_CHECK(flow_spec_net_hash(&s) != flow_spec_net_hash(&s2));
    s2 = s;
    s2.temb = 3;
    T_EQ_INT(flow_spec_check(&s2, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "even") != NULL);
    T_CHECK(flow_new(&s2, err, sizeof(err)) == NULL);
    s2 = s;
    s2.steps = 0;
    T_CHECK(flow_spec_layout(&s2) == 0);
    // the block: time net first, then the trunk
    struct flow *f = tiny_flow(3);
    T_CHECK(f->tnet->params == f->params);
    T_CHECK(f->trunk->params == f->params + f->tnet->n_params);
    T_EQ_INT(f->n_params, f->tnet->n_params + f->trunk->n_params);
    T_EQ_INT(f->trunk->spec.in_dim, f->D + 4 + 3);
    // hopper, published sizes: ≈1.1 MFLOP per velocity row
    // (deploy/rldt/BENCHMARKS.md: ≈2.2 per env step)
    struct rl_config c;
    config_default(&c);
    struct flow_spec h;
    T_EQ_INT(flow_spec_from_config(&h, &c, 11, 3, 4, err, sizeof(err)), 0);
    struct flow *fh = flow_new(&h, err, sizeof(err));
    double per_step = flow_flops_sample(fh, 1000) / 1000 / 4;
    printf("hopper flow: %zu params, %.2f MFLOP per env step (N=8, H=4)\n", fh->n_params,
           per_step / 1e6);
    T_CHECK(per_step > 2.0e6 && per_step < 2.4e6);
    flow_destroy(&fh);
    flow_destroy(&f);
}

// ---- files ---------------------------------------------------------------------------------

static char tmpdir[64];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static int copy_file(const char *from, const char *to, long truncate_to, long flip_at)
{
    FILE *a = fopen(from, "rb");
    if (!a)
        return -1;
    fseek(a, 0, SEEK_END);
    long n = ftell(a);
    fseek(a, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    size_t got = fread(buf, 1, (size_t)n, a);
    fclose(a);
    if (truncate_to >= 0 && truncate_to < n)
        n = truncate_to;
    if (flip_at >= 0 && flip_at < n)
        buf[flip_at] ^= 0x5a;
    FILE *b = fopen(to, "wb");
    size_t put = b ? fwrite(buf, 1, (size_t)n, b) : 0;
    if (b)
        fclose(b);
    free(buf);
    return got > 0 && put == (size_t)n ? 0 : -1;
}

static void test_policy_files(void)
{
    struct rl_config c;
    tiny_config(&c, 2);
    char err[600], path[128], bad[128];
    struct flow_spec s;
    flow_spec_from_config(&s, &c, 11, 3, 2, err, sizeof(err));
    struct flow *f = flow_new(&s, err, sizeof(err));
    struct rng r;
    rng_init(&r, 21, 0);
    flow_init(f, &r);
    float bounds[2 * 11 + 2 * 3];
    for (int i = 0; i < 11; i++) {
        bounds[i] = -2.0f - i;
        bounds[11 + i] = 3.0f + i;
    }
    for (int i = 0; i < 3; i++) {
        bounds[22 + i] = -0.5f;
        bounds[25 + i] = 0.7f;
    }
    char *text = config_to_string(&c);
    path_in(path, sizeof(path), "p.rldt");
    T_EQ_INT(flow_policy_save(path, text, f, bounds, err, sizeof(err)), 0);

    // round trip through the actors' loader and the learner's
    struct rl_config lc;
    struct policy *p = policy_load(path, &lc, 4, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    if (p) {
        T_EQ_STR(policy_kind(p), "flow");
        T_EQ_INT(lc.chunk, 2);
        T_EQ_INT(lc.flow_steps, 5);
        float obs[4 * 11] = {0}, a[4 * 6];
        policy_act(p, obs, 4, &r, true, a);
        for (int j = 0; j < 24; j++) /* actions mapped into the act bounds */
            T_CHECK(a[j] >= -0.5f - 1e-5f && a[j] <= 0.7f + 1e-5f);
        policy_destroy(&p);
    }
    struct flow *g = flow_new(&s, err, sizeof(err));
    float b2[28];
    bool hb = false;
    T_EQ_INT(flow_load_weights(path, g, b2, &hb, err, sizeof(err)), 0);
    T_CHECK(hb && memcmp(b2, bounds, sizeof(b2)) == 0);
    T_CHECK(memcmp(g->params, f->params, f->n_params * sizeof(float)) == 0);
    // another N loads the same nets
    struct flow_spec s8 = s;
    s8.steps = 8;
    struct flow *g8 = flow_new(&s8, err, sizeof(err));
    T_EQ_INT(flow_load_weights(path, g8, NULL, NULL, err, sizeof(err)), 0);

    // damaged files: truncated, a flipped byte, another format version
    long sizes[] = {10, 100, 2000};
    for (int i = 0; i < 3; i++) {
        path_in(bad, sizeof(bad), "trunc.rldt");
        copy_file(path, bad, sizes[i], -1);
        T_CHECK(policy_load(bad, &lc, 4, err, sizeof(err)) == NULL);
        T_CHECK(flow_load_weights(bad, g, NULL, NULL, err, sizeof(err)) < 0);
    }
    printf("truncated: %s\n", err);
    path_in(bad, sizeof(bad), "flip.rldt");
    copy_file(path, bad, -1, 3000);
    T_CHECK(policy_load(bad, &lc, 4, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "checksum") != NULL);
    T_CHECK(flow_load_weights(bad, g, NULL, NULL, err, sizeof(err)) < 0);
    path_in(bad, sizeof(bad), "ver.rldt");
    copy_file(path, bad, -1, 8); /* the format version field */
    T_CHECK(policy_load(bad, &lc, 4, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "version") != NULL);

    // wrong dimensions: the same weights in a file whose config says chunk 4
    struct rl_config c4;
    tiny_config(&c4, 4);
    char *text4 = config_to_string(&c4);
    path_in(bad, sizeof(bad), "dims.rldt");
    T_EQ_INT(flow_policy_save(bad, text4, f, bounds, err, sizeof(err)), 0);
    T_CHECK(policy_load(bad, &lc, 4, err, sizeof(err)) == NULL);
    printf("wrong dims (policy_load): %s\n", err);
    T_CHECK(flow_load_weights(bad, g, NULL, NULL, err, sizeof(err)) < 0);
    // a flow of another width refuses a good file
    struct flow_spec sw = s;
    sw.hidden = 32;
    struct flow *gw = flow_new(&sw, err, sizeof(err));
    T_EQ_INT(flow_load_weights(path, gw, NULL, NULL, err, sizeof(err)), -EINVAL);
    printf("wrong width: %s\n", err);
    // missing file
    path_in(bad, sizeof(bad), "none.rldt");
    T_CHECK(flow_load_weights(bad, g, NULL, NULL, err, sizeof(err)) < 0);

    free(text);
    free(text4);
    flow_destroy(&gw);
    flow_destroy(&g8);
    flow_destroy(&g);
    flow_destroy(&f);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_flow.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    T_RUN(test_gradients);
    T_RUN(test_sampler_matches_reference);
    T_RUN(test_sample_forward);
    T_RUN(test_policy_chain_end_is_action);
    T_RUN(test_exploration_and_target);
    T_RUN(test_spec_and_layout);
    T_RUN(test_policy_files);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return T_DONE("flow");
}
