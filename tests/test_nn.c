/*
 * test_nn.c — common/nn: forward against a double-precision reference written from the
 * documented layout, sgemm Linear against a triple loop, activations and their derivatives,
 * batch independence, two contexts on one net, gradient accumulation, inference == cached
 * forward, the packed small-batch path == inference, spec validation, hashes, FLOP counts.
 * The gradient checks are in test_nn_grad.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/nn.h"
#include "common/rng.h"
#include "tests/harness.h"
#include "tests/nntest.h"

static char err[256];

// ---- tests ---------------------------------------------------------------------------------

/* a single Linear (no hidden layer) against a triple loop, forward and backward */
static void test_linear_vs_naive(void)
{
    struct rng r;
    rng_init(&r, 7, 0);
    double max_d = 0;
    for (int rep = 0; rep < 10; rep++) {
        int B = 1 + (int)rng_below(&r, 40), ni = 1 + (int)rng_below(&r, 70);
        int no = 1 + (int)rng_below(&r, 70);
        struct nn_spec s;
        nn_spec_mlp(&s, ni, no, 1, 0, NN_ACT_NONE);
        struct nn *net = mk(&s, 100 + rep);
        struct nn_ctx *cx = nn_ctx_new(net, B);
        float *x = randn(&r, (size_t)B * ni, 1), *dy = randn(&r, (size_t)B * no, 1);
        float *dx = malloc(sizeof(float) * B * ni);
        const float *W = net->params, *b = net->params + (size_t)ni * no;
        nn_zero_grad(net);
        const float *y = nn_forward(net, cx, x, B);
        nn_backward(net, cx, dy, dx);
        for (int i = 0; i < B; i++)
            for (int j = 0; j < no; j++) {
                double z = b[j];
                for (int k = 0; k < ni; k++)
                    z += (double)x[i * ni + k] * W[j * ni + k];
                max_d = fmax(max_d, fabs(z - y[i * no + j]) / (1 + fabs(z)));
            }
        for (int j = 0; j < no; j++)
            for (int k = 0; k < ni; k++) {
                double gw = 0;
                for (int i = 0; i < B; i++)
                    gw += (double)dy[i * no + j] * x[i * ni + k];
                max_d = fmax(max_d, fabs(gw - net->grads[j * ni + k]) / (1 + fabs(gw)));
            }
        for (int j = 0; j < no; j++) {
            double gb = 0;
            for (int i = 0; i < B; i++)
                gb += dy[i * no + j];
            max_d = fmax(max_d, fabs(gb - net->grads[(size_t)ni * no + j]) / (1 + fabs(gb)));
        }
        for (int i = 0; i < B; i++)
            for (int k = 0; k < ni; k++) {
                double g = 0;
                for (int j = 0; j < no; j++)
                    g += (double)dy[i * no + j] * W[j * ni + k];
                max_d = fmax(max_d, fabs(g - dx[i * ni + k]) / (1 + fabs(g)));
            }
        free(x);
        free(dy);
        free(dx);
        nn_ctx_destroy(&cx);
        nn_destroy(&net);
    }
    fprintf(stderr, "  linear vs triple loop: max rel diff %.3g\n", max_d);
    T_CHECK(max_d < 1e-5);
}

/* forward of every variant against the double reference */
static void test_forward_vs_reference(void)
{
    struct rng r;
    rng_init(&r, 11, 0);
    double max_d = 0;
    for (int rep = 0; rep < 60; rep++) {
        struct nn_spec s;
        rand_spec(&r, &s, (enum nn_act)rng_below(&r, NN_ACT_COUNT), rep % 2, rep % 3 == 0);
        s.out_act = (enum nn_act)rng_below(&r, NN_ACT_COUNT);
        if (rep % 5 == 0) {
            s.in_dim = 1;
            s.time_dim = 2 * (1 + (int)rng_below(&r, 4));
            s.time_scale = 3.0f;
        }
        struct nn *net = mk(&s, 200 + rep);
        struct nn_ctx *cx = nn_ctx_new(net, MAXB);
        int B = 1 + (int)rng_below(&r, MAXB);
        float *x = randn(&r, (size_t)B * s.in_dim, 1.5f);
        double ref[MAXB * 16];
        const float *y = nn_forward(net, cx, x, B);
        ref_forward(net, x, B, ref);
        for (int i = 0; i < B * s.out_dim; i++)
            max_d = fmax(max_d, fabs(ref[i] - y[i]) / (1 + fabs(ref[i])));
        free(x);
        nn_ctx_destroy(&cx);
        nn_destroy(&net);
    }
    fprintf(stderr, "  forward vs double reference: max rel diff %.3g\n", max_d);
    T_CHECK(max_d < 1e-5);
}

static double dact_ref(enum nn_act a, double u)
{
    double s = 1 / (1 + exp(-u)), t = tanh(log1p(exp(u)));
    switch (a) {
    case NN_ACT_RELU:
        return u > 0;
    case NN_ACT_SILU:
        return s * (1 + u * (1 - s));
    case NN_ACT_MISH:
        return u > 40 ? 1 : t + u * (1 - t * t) * s;
    case NN_ACT_TANH:
        return 1 - tanh(u) * tanh(u);
    default:
        return 1;
    }
}

/* f and f' of every activation on a dense grid and at extremes, against double formulas; NaN */
static void test_activation_accuracy(void)
{
    enum { N = 1210 };
    static float u[N], dy[N], du[N];
    for (int i = 0; i < 1201; i++)
        u[i] = -30.0f + 0.05f * (float)i;
    const float ext[9] = {-1e30f, -1000, -100, -88, -87.5f, 87.5f, 100, 1000, 1e30f};
    for (int i = 0; i < 9; i++)
        u[1201 + i] = ext[i];
    for (int i = 0; i < N; i++)
        dy[i] = 1.0f;
    for (int a = 0; a < NN_ACT_COUNT; a++) {
        struct nn_spec s;
        nn_spec_mlp(&s, 1, 1, 1, 0, NN_ACT_NONE);
        s.out_act = (enum nn_act)a;
        struct nn *net = nn_new(&s, err, sizeof(err));
        struct nn_ctx *cx = nn_ctx_new(net, N);
        net->params[0] = 1.0f; /* y = act(1·u + 0) */
        net->params[1] = 0.0f;
        const float *y = nn_forward(net, cx, u, N);
        nn_backward(net, cx, dy, du);
        double ef = 0, ed = 0;
        int bad = 0;
        for (int i = 0; i < N; i++) {
            double f = act_ref((enum nn_act)a, u[i]), d = dact_ref((enum nn_act)a, u[i]);
            bad += !isfinite(y[i]) || !isfinite(du[i]);
            ef = fmax(ef, fabs(y[i] - f) / fmax(fabs(f), 1e-2));
            ed = fmax(ed, fabs(du[i] - d) / fmax(fabs(d), 1e-2));
        }
        fprintf(stderr, "  %-4s max err f %.2g, f' %.2g (relative above 0.01)\n",
                nn_act_name(s.out_act), ef, ed);
        T_EQ_INT(bad, 0);
        T_CHECK(ef < 1e-5);
        T_CHECK(ed < 2e-5);
        /* NaN in, NaN out (never silently finite) */
        float nan_in[5] = {NAN, 1.0f, NAN, -2.0f, NAN}, nan_out[5];
        nn_infer(net, cx, nan_in, nan_out, 5);
        T_CHECK(isnan(nan_out[0]) && isnan(nan_out[2]) && isnan(nan_out[4]));
        T_CHECK(isfinite(nan_out[1]) && isfinite(nan_out[3]));
        nn_ctx_destroy(&cx);
        nn_destroy(&net);
    }
}

/* row i of the output (and of d_in) depends only on row i of the input */
static void test_batch_independence(void)
{
    struct rng r;
    rng_init(&r, 51, 0);
    struct nn *net = mk_resln(7, 5, 16, 3, NN_ACT_MISH, 3);
    int B = 37;
    struct nn_ctx *cx = nn_ctx_new(net, B), *c1 = nn_ctx_new(net, 1);
    float *x = randn(&r, (size_t)B * 7, 1), *dy = calloc((size_t)B * 5, sizeof(float));
    float *dx = malloc(sizeof(float) * B * 7);
    const float *y = nn_forward(net, cx, x, B);
    double max_d = 0;
    for (int i = 0; i < B; i++) {
        const float *yi = nn_forward(net, c1, x + i * 7, 1);
        for (int j = 0; j < 5; j++)
            max_d = fmax(max_d, fabs(yi[j] - y[i * 5 + j]));
    }
    fprintf(stderr, "  row alone vs in a batch of %d: max diff %.3g\n", B, max_d);
    T_CHECK(max_d < 1e-5);
    /* a gradient on row 4 only: d_in is zero on every other row */
    for (int j = 0; j < 5; j++)
        dy[4 * 5 + j] = 1.0f;
    nn_backward(net, cx, dy, dx);
    int nonzero_other = 0, nonzero_4 = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < 7; k++) {
            nonzero_other += i != 4 && dx[i * 7 + k] != 0.0f;
            nonzero_4 += i == 4 && dx[i * 7 + k] != 0.0f;
        }
    T_EQ_INT(nonzero_other, 0);
    T_CHECK(nonzero_4 > 0);
    free(x);
    free(dy);
    free(dx);
    nn_ctx_destroy(&cx);
    nn_ctx_destroy(&c1);
    nn_destroy(&net);
}

/* two contexts on one net (critic on s and s'), backward through each; accumulation */
static void test_two_contexts_and_accumulation(void)
{
    struct rng r;
    rng_init(&r, 61, 0);
    struct nn_spec s;
    nn_spec_mlp(&s, 6, 2, 12, 2, NN_ACT_SILU);
    struct nn *net = mk(&s, 4);
    int B = 9;
    size_t n = net->n_params;
    struct nn_ctx *ca = nn_ctx_new(net, B), *cb = nn_ctx_new(net, B);
    float *xa = randn(&r, (size_t)B * 6, 1), *xb = randn(&r, (size_t)B * 6, 1);
    float *da = randn(&r, (size_t)B * 2, 1), *db = randn(&r, (size_t)B * 2, 1);
    float *ga = malloc(n * sizeof(float)), *gb = malloc(n * sizeof(float));
    float *dxa = malloc(sizeof(float) * B * 6), *dxa2 = malloc(sizeof(float) * B * 6);
    /* separately: grads of a, grads of b */
    nn_zero_grad(net);
    nn_forward(net, ca, xa, B);
    nn_backward(net, ca, da, dxa);
    memcpy(ga, net->grads, n * sizeof(float));
    nn_zero_grad(net);
    nn_forward(net, ca, xb, B);
    nn_backward(net, ca, db, NULL);
    memcpy(gb, net->grads, n * sizeof(float));
    /* interleaved with two contexts: forward a, forward b, backward a, backward b */
    nn_zero_grad(net);
    nn_forward(net, ca, xa, B);
    nn_forward(net, cb, xb, B);
    nn_backward(net, ca, da, dxa2);
    nn_backward(net, cb, db, NULL);
    double max_d = 0, max_dx = 0;
    for (size_t k = 0; k < n; k++)
        max_d = fmax(max_d, fabs(net->grads[k] - (ga[k] + gb[k])));
    for (int k = 0; k < B * 6; k++)
        max_dx = fmax(max_dx, fabs(dxa[k] - dxa2[k]));
    fprintf(stderr, "  two contexts: grad diff %.3g, d_in diff %.3g\n", max_d, max_dx);
    T_CHECK(max_d < 1e-5);
    T_CHECK(max_dx == 0.0);
    /* d_in = NULL gives the same parameter gradients */
    nn_zero_grad(net);
    nn_forward(net, ca, xa, B);
    nn_backward(net, ca, da, NULL);
    T_CHECK(memcmp(net->grads, ga, n * sizeof(float)) == 0);
    /* backward twice on one forward doubles; zero_grad clears */
    nn_zero_grad(net);
    nn_forward(net, ca, xa, B);
    nn_backward(net, ca, da, NULL);
    nn_backward(net, ca, da, NULL);
    max_d = 0;
    for (size_t k = 0; k < n; k++)
        max_d = fmax(max_d, fabs(net->grads[k] - 2 * ga[k]));
    T_CHECK(max_d < 1e-5);
    nn_zero_grad(net);
    int nz = 0;
    for (size_t k = 0; k < n; k++)
        nz += net->grads[k] != 0.0f;
    T_EQ_INT(nz, 0);
    free(xa), free(xb), free(da), free(db), free(ga), free(gb), free(dxa), free(dxa2);
    nn_ctx_destroy(&ca);
    nn_ctx_destroy(&cb);
    nn_destroy(&net);
}

/* nn_infer gives the same floats as nn_forward, for every variant */
static void test_infer_equals_forward(void)
{
    struct rng r;
    rng_init(&r, 71, 0);
    int diffs = 0;
    for (int rep = 0; rep < 40; rep++) {
        struct nn_spec s;
        rand_spec(&r, &s, (enum nn_act)rng_below(&r, NN_ACT_COUNT), rep & 1, rep & 2);
        s.out_act = (enum nn_act)rng_below(&r, NN_ACT_COUNT);
        if (rep % 7 == 0) {
            s.in_dim = 1;
            s.time_dim = 8;
        }
        struct nn *net = mk(&s, 300 + rep);
        int B = 1 + (int)rng_below(&r, 64);
        struct nn_ctx *cx = nn_ctx_new(net, 64), *ci = nn_ctx_new_infer(net, 64);
        float *x = randn(&r, (size_t)B * s.in_dim, 1), out[64 * 4], out2[64 * 4];
        const float *y = nn_forward(net, cx, x, B);
        nn_infer(net, ci, x, out, B);
        nn_infer(net, cx, x, out2, B); /* a training ctx works for inference too */
        diffs += memcmp(y, out, sizeof(float) * B * s.out_dim) != 0;
        diffs += memcmp(y, out2, sizeof(float) * B * s.out_dim) != 0;
        free(x);
        nn_ctx_destroy(&cx);
        nn_ctx_destroy(&ci);
        nn_destroy(&net);
    }
    T_EQ_INT(diffs, 0);
}

/* the packed small-batch path (nn_pack) against nn_infer at every row count it serves and past
 * it, for random layer kinds; a changed parameter block reaches it only through nn_pack_update */
static void test_packed_equals_infer(void)
{
    struct rng r;
    rng_init(&r, 73, 0);
    struct nn_spec s;
    double worst = 0;
    int rows[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 31, 32, 33};
    for (int rep = 0; rep < 12; rep++) {
        rand_spec(&r, &s, (enum nn_act)rng_below(&r, NN_ACT_COUNT), rep & 1, rep & 2);
        if (rep % 3 == 0) { /* the flow trunk's kind: several 8-column panels and a tail */
            nn_spec_mlp(&s, 39, 12, 44, 3, NN_ACT_RELU);
            s.residual = true;
        }
        struct nn *net = mk(&s, 500 + rep);
        struct nn_pack *pk = nn_pack_new(net);
        int B = rows[rep], n = B * net->spec.out_dim;
        struct nn_ctx *ci = nn_ctx_new_infer(net, 64);
        float *x = randn(&r, (size_t)B * s.in_dim, 1), out[64 * 12], out2[64 * 12];
        nn_infer(net, ci, x, out, B);
        nn_infer_packed(net, pk, ci, x, out2, B);
        if (!pk) { /* no AVX2/FMA here: the packed call is nn_infer */
            printf("note: no small-batch kernel on this CPU\n");
            T_CHECK(memcmp(out, out2, sizeof(float) * n) == 0);
            free(x);
            nn_ctx_destroy(&ci);
            nn_destroy(&net);
            return;
        }
        for (int j = 0; j < n; j++)
            worst = fmax(worst, fabs(out[j] - out2[j]) / (1e-3 + fabs(out[j])));
        net->params[net->layer[0].w] += 1.0f; /* stale pack: differs until updated */
        nn_infer(net, ci, x, out, B);
        nn_infer_packed(net, pk, ci, x, out2, B);
        double stale = 0;
        for (int j = 0; j < n; j++)
            stale = fmax(stale, fabs(out[j] - out2[j]));
        T_CHECK(B > NN_PACK_MAX_ROWS || stale > 1e-4);
        nn_pack_update(pk, net);
        nn_infer_packed(net, pk, ci, x, out2, B);
        for (int j = 0; j < n; j++)
            worst = fmax(worst, fabs(out[j] - out2[j]) / (1e-3 + fabs(out[j])));
        free(x);
        nn_ctx_destroy(&ci);
        nn_pack_destroy(&pk);
        nn_destroy(&net);
    }
    T_CHECK_MSG(worst < 1e-4, "packed vs sgemm: worst relative difference %g", worst);
}

static void test_spec_validation(void)
{
    struct nn_spec s;
    nn_spec_mlp(&s, 0, 3, 8, 2, NN_ACT_RELU);
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "dims") != NULL);
    T_CHECK(nn_new(&s, err, sizeof(err)) == NULL);
    nn_spec_mlp(&s, 4, 3, 8, 2, NN_ACT_RELU);
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), 0);
    s.n_hidden = NN_MAX_HIDDEN + 1;
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    nn_spec_mlp(&s, 4, 3, 8, 2, NN_ACT_RELU);
    s.hidden[1] = -5;
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "-5") != NULL);
    nn_spec_mlp(&s, 4, 3, 8, 2, (enum nn_act)99);
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    nn_spec_mlp(&s, 4, 3, 8, 2, NN_ACT_RELU);
    s.time_dim = 5;
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    s.time_dim = 6; /* needs in_dim 1 */
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    s.in_dim = 1;
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), 0);
    s.time_scale = 0;
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    nn_spec_mlp(&s, NN_MAX_DIM, NN_MAX_DIM, NN_MAX_DIM, 3, NN_ACT_RELU);
    T_EQ_INT(nn_spec_check(&s, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "parameters") != NULL);
    T_EQ_INT(nn_spec_check(&s, NULL, 0), -EINVAL);
    T_CHECK(nn_spec_hash(&s) == 0);
    enum nn_act a = NN_ACT_NONE;
    T_EQ_INT(nn_act_parse("mish", &a), 0);
    T_EQ_INT(a, NN_ACT_MISH);
    T_EQ_INT(nn_act_parse("gelu", &a), -EINVAL);
    T_EQ_INT(nn_act_parse(NULL, &a), -EINVAL);
    T_EQ_STR(nn_act_name(NN_ACT_SILU), "silu");
    struct nn *net = mk(&(struct nn_spec){.in_dim = 2, .out_dim = 1}, 1);
    T_CHECK(net && nn_ctx_new(net, 0) == NULL);
    nn_destroy(&net);
    nn_destroy(&net);
    T_CHECK(net == NULL);
}

/* the project's shapes: parameter counts, FLOPs, hashes */
static void test_shapes_hash_flops(void)
{
    struct nn_spec pol, cri, sac, tim;
    nn_spec_mlp(&pol, 40, 12, 512, 3, NN_ACT_RELU);
    pol.residual = true;
    nn_spec_mlp(&cri, 23, 1, 256, 3, NN_ACT_SILU);
    nn_spec_mlp(&sac, 17, 12, 256, 2, NN_ACT_RELU);
    nn_spec_time_embed(&tim, 16);
    struct nn *p = nn_new(&pol, err, sizeof(err)), *c = nn_new(&cri, err, sizeof(err));
    struct nn *a = nn_new(&sac, err, sizeof(err)), *t = nn_new(&tim, err, sizeof(err));
    T_CHECK(p && c && a && t);
    T_EQ_INT(p->n_params, 40 * 512 + 512 + 2 * (512 * 512 + 512) + 512 * 12 + 12);
    T_EQ_INT(c->n_params, 23 * 256 + 256 + 2 * (256 * 256 + 256) + 256 + 1);
    T_EQ_INT(a->n_params, 17 * 256 + 256 + 256 * 256 + 256 + 256 * 12 + 12);
    T_EQ_INT(t->n_params, 16 * 32 + 32 + 32 * 16 + 16);
    T_CHECK(!p->layer[0].skip && p->layer[1].skip && p->layer[2].skip && !p->layer[3].skip);
    T_CHECK(t->layer[0].act == NN_ACT_MISH && t->layer[1].act == NN_ACT_NONE);
    double f = 2.0 * 256 * (40 * 512 + 2 * 512 * 512 + 512 * 12);
    T_NEAR(nn_flops_forward(p, 256), f, 0.5);
    T_NEAR(nn_flops_backward(p, 256, true), 2 * f, 0.5);
    T_NEAR(nn_flops_backward(p, 256, false), 2 * f - 2.0 * 256 * 40 * 512, 0.5);
    /* hashes: equal for equal layouts, different for any change */
    uint64_t hs[8];
    struct nn_spec v = pol;
    hs[0] = p->hash;
    hs[1] = c->hash;
    hs[2] = a->hash;
    hs[3] = t->hash;
    v.residual = false;
    hs[4] = nn_spec_hash(&v);
    v = pol;
    v.layer_norm = true;
    hs[5] = nn_spec_hash(&v);
    v = pol;
    v.out_act = NN_ACT_TANH;
    hs[6] = nn_spec_hash(&v);
    v = tim;
    v.time_scale = 100;
    hs[7] = nn_spec_hash(&v);
    int same = 0;
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            same += hs[i] == hs[j];
    T_EQ_INT(same, 0);
    T_CHECK(nn_spec_hash(&pol) == p->hash);
    v = pol;
    v.hidden[5] = 77; /* beyond n_hidden: not part of the layout */
    T_CHECK(nn_spec_hash(&v) == p->hash);
    nn_destroy(&p);
    nn_destroy(&c);
    nn_destroy(&a);
    nn_destroy(&t);
}

/* init: deterministic per seed, within ±1/sqrt(fan_in); copy_params gives identical outputs */
static void test_init_and_copy(void)
{
    struct nn_spec s;
    nn_spec_mlp(&s, 9, 3, 64, 2, NN_ACT_RELU);
    s.layer_norm = true;
    struct rng r1, r2;
    rng_init(&r1, 5, 0);
    rng_init(&r2, 6, 0);
    struct nn *a = nn_new(&s, err, sizeof(err)), *b = nn_new(&s, err, sizeof(err));
    nn_init(a, &r1);
    nn_init(b, &r2);
    T_CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) != 0);
    int out_of_range = 0;
    double maxw = 0;
    for (int i = 0; i < a->n_layers; i++) {
        const struct nn_layer *L = &a->layer[i];
        double lim = 1 / sqrt(L->in);
        for (size_t k = L->w; k < L->b + L->out; k++) {
            out_of_range += fabs(a->params[k]) > lim;
            maxw = fmax(maxw, fabs(a->params[k]) * sqrt(L->in));
        }
        for (int k = 0; L->ln && k < L->out; k++)
            out_of_range += a->params[L->g + k] != 1 || a->params[L->beta + k] != 0;
    }
    T_EQ_INT(out_of_range, 0);
    T_CHECK(maxw > 0.95); /* really spans the range */
    rng_init(&r1, 5, 0);
    nn_init(b, &r1);
    T_CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    rng_init(&r2, 6, 0);
    nn_init(b, &r2);
    nn_copy_params(b, a);
    T_CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    nn_destroy(&a);
    nn_destroy(&b);
}

int main(void)
{
    T_RUN(test_linear_vs_naive);
    T_RUN(test_forward_vs_reference);
    T_RUN(test_activation_accuracy);
    T_RUN(test_batch_independence);
    T_RUN(test_two_contexts_and_accumulation);
    T_RUN(test_infer_equals_forward);
    T_RUN(test_packed_equals_infer);
    T_RUN(test_spec_validation);
    T_RUN(test_shapes_hash_flops);
    T_RUN(test_init_and_copy);
    return T_DONE("nn");
}
