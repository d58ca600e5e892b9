/*
 * test_optim.c — common/optim: Adam against a hand-written double reference, AdamW's decoupled
 * decay, warm-up, Polyak and EMA, gradient norm and clipping, state save/restore, and real
 * minimisation (a quadratic; a small regression through common/nn).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/nn.h"
#include "common/optim.h"
#include "common/rng.h"
#include "tests/harness.h"

/* Adam, three steps on three parameters, against the textbook formulas in double */
static void test_adam_reference(void)
{
    struct optim_config c;
    optim_config_default(&c);
    c.lr = 0.01f;
    c.weight_decay = 0.1f; /* L2 flavour: g += wd·θ */
    struct optim *o = optim_new(&c, 3);
    T_CHECK(o != NULL);
    float p[3] = {0.5f, -1.0f, 2.0f};
    const float g[3][3] = {{0.1f, -0.2f, 0.3f}, {0.05f, 0.4f, -0.1f}, {-0.3f, 0.0f, 0.2f}};
    double rp[3] = {0.5, -1.0, 2.0}, m[3] = {0}, v[3] = {0};
    double b1 = c.beta1, b2 = c.beta2, wd = c.weight_decay, lr = c.lr; /* the float values */
    for (int t = 1; t <= 3; t++) {
        optim_step(o, p, g[t - 1]);
        for (int i = 0; i < 3; i++) {
            double gi = g[t - 1][i] + wd * rp[i];
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            double mh = m[i] / (1 - pow(b1, t)), vh = v[i] / (1 - pow(b2, t));
            rp[i] -= lr * mh / (sqrt(vh) + 1e-8);
        }
        for (int i = 0; i < 3; i++)
            T_NEAR(p[i], rp[i], 1e-6);
    }
    T_EQ_INT(o->step, 3);
    /* the state block is m then v */
    for (int i = 0; i < 3; i++) {
        T_NEAR(o->state[i], m[i], 1e-6 * fabs(m[i]));
        T_NEAR(o->state[3 + i], v[i], 1e-6 * v[i]);
    }
    optim_destroy(&o);
    optim_destroy(&o);
    T_CHECK(o == NULL);
    T_CHECK(optim_new(&c, 0) == NULL);
}

/* AdamW shrinks by (1 − lr·wd) independent of the gradient; Adam's L2 goes through the moments */
static void test_adamw_decoupled(void)
{
    struct optim_config c;
    optim_config_default(&c);
    c.kind = OPTIM_ADAMW;
    c.lr = 0.1f;
    c.weight_decay = 0.5f;
    struct optim *w = optim_new(&c, 2);
    c.kind = OPTIM_ADAM;
    struct optim *a = optim_new(&c, 2);
    float pw[2] = {1.0f, -3.0f}, pa[2] = {1.0f, -3.0f}, zero[2] = {0, 0};
    optim_step(w, pw, zero);
    optim_step(a, pa, zero);
    T_NEAR(pw[0], 1.0 * 0.95, 1e-7); /* no gradient: pure decay */
    T_NEAR(pw[1], -3.0 * 0.95, 1e-7);
    T_NEAR(pa[0], 1.0 - 0.1, 1e-5); /* L2 grad normalised by Adam: a step of lr·sign */
    T_NEAR(pa[1], -3.0 + 0.1, 1e-5);
    /* with a gradient: AdamW = decay, then the plain Adam step from the raw gradient */
    float g[2] = {0.2f, 0.2f};
    c.kind = OPTIM_ADAMW;
    optim_reset(w);
    T_EQ_INT(w->step, 0);
    pw[0] = 1.0f;
    pw[1] = -3.0f;
    optim_step(w, pw, g);
    T_NEAR(pw[0], 0.95 - 0.1, 1e-6);
    T_NEAR(pw[1], -2.85 - 0.1, 1e-6);
    optim_destroy(&w);
    optim_destroy(&a);
}

/* lr·min(1, step/warmup): values, and the size of the first Adam steps */
static void test_warmup(void)
{
    struct optim_config c;
    optim_config_default(&c);
    c.lr = 1e-2f;
    c.warmup = 10;
    T_NEAR(optim_lr_at(&c, 1), 1e-3, 1e-9);
    T_NEAR(optim_lr_at(&c, 5), 5e-3, 1e-9);
    T_NEAR(optim_lr_at(&c, 10), 1e-2, 1e-9);
    T_NEAR(optim_lr_at(&c, 1000), 1e-2, 1e-9);
    c.warmup = 0;
    T_NEAR(optim_lr_at(&c, 1), 1e-2, 1e-9);
    c.warmup = 4;
    struct optim *o = optim_new(&c, 1);
    float p = 0.0f, g = 1.0f; /* constant gradient: every Adam step is lr_t */
    double expect = 0;
    for (int t = 1; t <= 6; t++) {
        float before = p;
        optim_step(o, &p, &g);
        expect = 1e-2 * fmin(1.0, t / 4.0);
        T_NEAR(before - p, expect, 1e-7);
    }
    optim_destroy(&o);
}

static void test_polyak_ema_norm(void)
{
    float d[3] = {1, 2, 3}, s[3] = {3, 2, 1};
    optim_polyak(d, s, 3, 0.25f);
    T_NEAR(d[0], 1.5, 1e-7);
    T_NEAR(d[1], 2.0, 1e-7);
    T_NEAR(d[2], 2.5, 1e-7);
    optim_polyak(d, s, 3, 1.0f); /* τ = 1 copies */
    T_CHECK(memcmp(d, s, sizeof(d)) == 0);
    float e[2] = {10, 0}, x[2] = {0, 10};
    optim_ema(e, x, 2, 0.9f);
    T_NEAR(e[0], 9.0, 1e-6);
    T_NEAR(e[1], 1.0, 1e-6);
    for (int i = 0; i < 200; i++)
        optim_ema(e, x, 2, 0.9f);
    T_NEAR(e[0], 0.0, 1e-5);
    T_NEAR(e[1], 10.0, 1e-5);
    float g[2] = {3, 4};
    T_NEAR(optim_grad_norm(g, 2), 5.0, 1e-12);
    T_NEAR(optim_clip_grad_norm(g, 2, 10.0), 5.0, 1e-12); /* under the limit: unchanged */
    T_NEAR(g[0], 3.0, 0);
    T_NEAR(optim_clip_grad_norm(g, 2, 1.0), 5.0, 1e-12);
    T_NEAR(g[0], 0.6, 1e-7);
    T_NEAR(g[1], 0.8, 1e-7);
    T_NEAR(optim_grad_norm(g, 2), 1.0, 1e-6);
}

/* saving (step, state) and restoring into a fresh optimiser continues identically */
static void test_state_restore(void)
{
    struct rng r;
    rng_init(&r, 3, 0);
    struct optim_config c;
    optim_config_default(&c);
    c.kind = OPTIM_ADAMW;
    c.weight_decay = 0.01f;
    c.warmup = 3;
    enum { N = 50 };
    float p1[N], p2[N], g[N];
    rng_normal_fill(&r, p1, N);
    struct optim *a = optim_new(&c, N), *b = optim_new(&c, N);
    for (int t = 0; t < 5; t++) {
        rng_normal_fill(&r, g, N);
        optim_step(a, p1, g);
    }
    memcpy(p2, p1, sizeof(p1));
    memcpy(b->state, a->state, 2 * N * sizeof(float));
    b->step = a->step;
    for (int t = 0; t < 5; t++) {
        rng_normal_fill(&r, g, N);
        optim_step(a, p1, g);
        optim_step(b, p2, g);
    }
    T_CHECK(memcmp(p1, p2, sizeof(p1)) == 0);
    optim_destroy(&a);
    optim_destroy(&b);
}

/* Adam on f(θ) = Σ a_i (θ_i − c_i)² with badly scaled a_i */
static void test_adam_quadratic(void)
{
    enum { N = 20 };
    float th[N] = {0}, g[N], a[N], c[N];
    for (int i = 0; i < N; i++) {
        a[i] = powf(10.0f, (float)(i % 5) - 2.0f);
        c[i] = (float)(i - 10) * 0.3f;
    }
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = 0.05f;
    struct optim *o = optim_new(&oc, N);
    double f0 = 0, f = 0;
    for (int i = 0; i < N; i++)
        f0 += a[i] * c[i] * c[i];
    for (int t = 0; t < 2000; t++) {
        for (int i = 0; i < N; i++)
            g[i] = 2 * a[i] * (th[i] - c[i]);
        optim_step(o, th, g);
    }
    for (int i = 0; i < N; i++)
        f += a[i] * (th[i] - c[i]) * (th[i] - c[i]);
    fprintf(stderr, "  quadratic: f %.4g -> %.4g\n", f0, f);
    T_CHECK(f < f0 * 1e-4);
    optim_destroy(&o);
}

/* fit y = sin(2 x0) + x1² − x0 x1 with a real network; the loss must fall by a large factor */
static double fit(bool residual, bool ln, enum nn_act act, enum optim_kind kind)
{
    enum { B = 64, STEPS = 600 };
    struct rng r;
    rng_init(&r, 17, 0);
    struct nn_spec s;
    char err[128];
    nn_spec_mlp(&s, 2, 1, 32, 3, act);
    s.residual = residual;
    s.layer_norm = ln;
    struct nn *net = nn_new(&s, err, sizeof(err));
    struct nn_ctx *cx = nn_ctx_new(net, B);
    nn_init(net, &r);
    struct optim_config oc;
    optim_config_default(&oc);
    oc.kind = kind;
    oc.lr = 3e-3f;
    oc.warmup = 20;
    oc.weight_decay = kind == OPTIM_ADAMW ? 1e-4f : 0.0f;
    struct optim *o = optim_new(&oc, net->n_params);
    float x[B * 2], y[B], dy[B];
    double first = 0, last = 0;
    for (int t = 0; t < STEPS; t++) {
        for (int i = 0; i < B; i++) {
            float a = (float)rng_range(&r, -1.5, 1.5), b = (float)rng_range(&r, -1.5, 1.5);
            x[2 * i] = a;
            x[2 * i + 1] = b;
            y[i] = sinf(2 * a) + b * b - a * b;
        }
        nn_zero_grad(net);
        const float *out = nn_forward(net, cx, x, B);
        double loss = 0;
        for (int i = 0; i < B; i++) {
            loss += (out[i] - y[i]) * (out[i] - y[i]) / B;
            dy[i] = 2 * (out[i] - y[i]) / B;
        }
        nn_backward(net, cx, dy, NULL);
        optim_step(o, net->params, net->grads);
        if (t < 20)
            first += loss / 20;
        if (t >= STEPS - 20)
            last += loss / 20;
    }
    fprintf(stderr, "  fit %s%s %s %s: mse %.4g -> %.4g (x%.0f)\n", residual ? "residual" : "plain",
            ln ? "+ln" : "", nn_act_name(act), kind == OPTIM_ADAMW ? "adamw" : "adam", first, last,
            first / last);
    optim_destroy(&o);
    nn_ctx_destroy(&cx);
    nn_destroy(&net);
    return first / last;
}

static void test_fit_regression(void)
{
    T_CHECK(fit(false, false, NN_ACT_SILU, OPTIM_ADAM) > 100);
    T_CHECK(fit(true, false, NN_ACT_RELU, OPTIM_ADAMW) > 100);
    T_CHECK(fit(true, true, NN_ACT_MISH, OPTIM_ADAMW) > 100);
}

int main(void)
{
    T_RUN(test_adam_reference);
    T_RUN(test_adamw_decoupled);
    T_RUN(test_warmup);
    T_RUN(test_polyak_ema_norm);
    T_RUN(test_state_restore);
    T_RUN(test_adam_quadratic);
    T_RUN(test_fit_regression);
    return T_DONE("optim");
}
