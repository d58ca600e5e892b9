/*
 * test_nn_grad.c — common/nn gradients: central finite-difference checks (parameters and
 * inputs) against the float network and against a double reference, for every layer kind and
 * for whole networks, a proof that the checker catches a wrong gradient, a time net composed
 * with a trunk, and input-only backward and forwards filled in parts against whole-batch passes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/nn.h"
#include "common/rng.h"
#include "tests/harness.h"
#include "tests/nntest.h"

static double worst64, worst32; /* max relative errors of the f64 and f32 checks so far */

/* L = Σ w ⊙ net(x): float32 network under test */
static double loss_f32(const struct nn *net, struct nn_ctx *cx, const float *x, int B,
                       const float *w)
{
    static float out[MAXB * 64];
    nn_infer(net, cx, x, out, B);
    double L = 0;
    for (int i = 0; i < B * net->spec.out_dim; i++)
        L += (double)w[i] * out[i];
    return L;
}

/* L = Σ w ⊙ ref(x): the double reference on the same float parameters (no rounding noise) */
static double loss_f64(const struct nn *net, struct nn_ctx *cx, const float *x, int B,
                       const float *w)
{
    static double out[MAXB * 64];
    (void)cx;
    ref_forward(net, x, B, out);
    double L = 0;
    for (int i = 0; i < B * net->spec.out_dim; i++)
        L += w[i] * out[i];
    return L;
}

/*
 * How to take finite differences. f32: the float network itself, step 1e-2, only for smooth
 * nets (a ReLU kink inside ±h cannot always be told apart from float noise). f64: the double
 * reference, step 1e-3, tight tolerance. Both use Richardson (4·D(h/2) − D(h))/3. For ReLU nets
 * (f64 only) an entry whose estimates from (h, h/2) and (h/2, h/4) disagree has a kink within
 * the step and is skipped.
 */
struct gc_mode {
    double (*loss)(const struct nn *, struct nn_ctx *, const float *, int, const float *);
    double h, atol, tol;
};
static const struct gc_mode GC_F32 = {loss_f32, 1e-2, 1e-2, 2e-2};
static const struct gc_mode GC_F64 = {loss_f64, 1e-4, 1e-3, 1e-3};

struct gc {
    double max_err;
    int checked, skipped;
};

/* central difference w.r.t. the float *v with step ≈ h (exact steps after float rounding) */
static double fd(const struct gc_mode *m, struct nn *net, struct nn_ctx *cx, float *x, int B,
                 const float *w, float *v, double h)
{
    float v0 = *v;
    *v = (float)(v0 + h);
    double dp = (double)*v - v0;
    double lp = m->loss(net, cx, x, B, w);
    *v = (float)(v0 - h);
    double dm = v0 - (double)*v;
    double lm = m->loss(net, cx, x, B, w);
    *v = v0;
    return (lp - lm) / (dp + dm);
}

/* compare analytic a[0..n) with finite differences over the floats v[0..n) */
static void gc_block(const struct gc_mode *m, bool kinks, struct gc *res, struct nn *net,
                     struct nn_ctx *cx, float *x, int B, const float *w, float *v, const float *a,
                     size_t n)
{
    for (size_t k = 0; k < n; k++) {
        double n1 = fd(m, net, cx, x, B, w, &v[k], m->h);
        double n2 = fd(m, net, cx, x, B, w, &v[k], m->h / 2);
        double nr = (4 * n2 - n1) / 3;
        if (kinks) {
            double n4 = fd(m, net, cx, x, B, w, &v[k], m->h / 4);
            double nr2 = (4 * n4 - n2) / 3;
            if (fabs(nr - nr2) > 1e-5 * (fabs(nr) + fabs(nr2)) + 1e-9) {
                res->skipped++;
                continue;
            }
            nr = nr2;
        }
        double e = fabs(a[k] - nr) / (fmax(fabs(a[k]), fabs(nr)) + m->atol);
        if (getenv("GC_DEBUG") && e > m->tol)
            fprintf(stderr, "    entry %zu: analytic %.6g fd %.6g %.6g\n", k, a[k], n1, n2);
        res->max_err = fmax(res->max_err, e);
        res->checked++;
    }
}

/*
 * Gradient check of net at x (B rows) for L = Σ w ⊙ out. tamper >= 0 corrupts that analytic
 * parameter gradient (tamper_in >= 0: that input gradient) before comparing.
 */
static struct gc gradcheck(const struct gc_mode *m, struct nn *net, float *x, int B, const float *w,
                           long tamper, long tamper_in)
{
    bool kinks = net->spec.act == NN_ACT_RELU || net->spec.out_act == NN_ACT_RELU;
    struct gc res = {0, 0, 0};
    struct nn_ctx *cx = nn_ctx_new(net, B);
    struct nn_ctx *cf = nn_ctx_new_infer(net, B);
    size_t nin = (size_t)B * net->spec.in_dim;
    float *din = calloc(nin, sizeof(float));
    float *ga = malloc(net->n_params * sizeof(float));
    nn_zero_grad(net);
    nn_forward(net, cx, x, B);
    nn_backward(net, cx, w, din);
    memcpy(ga, net->grads, net->n_params * sizeof(float));
    if (tamper >= 0)
        ga[tamper] += 0.05f * (fabsf(ga[tamper]) + 0.1f);
    if (tamper_in >= 0)
        din[tamper_in] += 0.05f * (fabsf(din[tamper_in]) + 0.1f);
    gc_block(m, kinks, &res, net, cf, x, B, w, net->params, ga, net->n_params);
    gc_block(m, kinks, &res, net, cf, x, B, w, x, din, nin);
    free(ga);
    free(din);
    nn_ctx_destroy(&cx);
    nn_ctx_destroy(&cf);
    return res;
}

/* both checks (f32 only for smooth nets) of one spec on a random batch */
static void check_spec(const struct nn_spec *s, uint64_t seed, const char *what)
{
    struct rng r;
    rng_init(&r, seed, 2);
    struct nn *net = mk(s, seed);
    T_CHECK(net != NULL);
    if (!net)
        return;
    int B = 1 + (int)rng_below(&r, 5);
    float *x = randn(&r, (size_t)B * s->in_dim, 1.0f);
    float *w = randn(&r, (size_t)B * s->out_dim, 1.0f);
    bool relu = s->act == NN_ACT_RELU || s->out_act == NN_ACT_RELU;
    struct gc g64 = gradcheck(&GC_F64, net, x, B, w, -1, -1);
    T_CHECK_MSG(g64.max_err < GC_F64.tol, "%s seed %llu: f64 max rel err %.3g", what,
                (unsigned long long)seed, g64.max_err);
    T_CHECK_MSG(relu ? g64.skipped * 3 <= g64.checked : g64.skipped == 0,
                "%s: %d of %d entries skipped", what, g64.skipped, g64.checked + g64.skipped);
    T_CHECK(g64.checked > 0);
    worst64 = fmax(worst64, g64.max_err);
    if (!relu) {
        struct gc g32 = gradcheck(&GC_F32, net, x, B, w, -1, -1);
        T_CHECK_MSG(g32.max_err < GC_F32.tol, "%s seed %llu: f32 max rel err %.3g", what,
                    (unsigned long long)seed, g32.max_err);
        worst32 = fmax(worst32, g32.max_err);
    }
    free(x);
    free(w);
    nn_destroy(&net);
}

// ---- tests ---------------------------------------------------------------------------------

/* each layer kind on its own: Linear, each activation, LayerNorm, skip, time embedding */
static void test_gradcheck_layers(void)
{
    worst64 = worst32 = 0;
    struct nn_spec s;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        nn_spec_mlp(&s, 5, 4, 1, 0, NN_ACT_NONE); /* Linear */
        check_spec(&s, seed, "linear");
        for (int a = 1; a < NN_ACT_COUNT; a++) { /* act on the output of one Linear */
            s.out_act = (enum nn_act)a;
            check_spec(&s, seed * 10 + a, nn_act_name(s.out_act));
        }
        nn_spec_mlp(&s, 4, 3, 6, 1, NN_ACT_NONE); /* LayerNorm alone */
        s.layer_norm = true;
        check_spec(&s, seed, "layernorm");
        nn_spec_mlp(&s, 3, 2, 5, 2, NN_ACT_TANH); /* one skip layer */
        s.residual = true;
        check_spec(&s, seed, "residual");
        nn_spec_time_embed(&s, 6); /* sinusoidal features → Linear → Mish → Linear */
        s.time_scale = 2.0f;
        check_spec(&s, seed, "time embedding");
    }
    fprintf(stderr, "  layer kinds: max rel err f64 %.3g (tol %g), f32 %.3g (tol %g)\n", worst64,
            GC_F64.tol, worst32, GC_F32.tol);
}

/* whole networks: plain and residual, with and without LayerNorm, every activation */
static void test_gradcheck_networks(void)
{
    struct rng r;
    rng_init(&r, 23, 0);
    worst64 = worst32 = 0;
    for (int a = 0; a < NN_ACT_COUNT; a++)
        for (int v = 0; v < 4; v++)
            for (int rep = 0; rep < 2; rep++) {
                struct nn_spec s;
                char what[64];
                rand_spec(&r, &s, (enum nn_act)a, v & 1, v & 2);
                s.out_act = rep ? NN_ACT_TANH : NN_ACT_NONE;
                snprintf(what, sizeof(what), "%s%s%s", nn_act_name(s.act),
                         s.residual ? " residual" : "", s.layer_norm ? " ln" : "");
                check_spec(&s, rng_u64(&r), what);
            }
    fprintf(stderr, "  networks: max rel err f64 %.3g (tol %g), f32 %.3g (tol %g)\n", worst64,
            GC_F64.tol, worst32, GC_F32.tol);
}

/* each checker must fail when one analytic gradient entry is wrong */
static void test_gradcheck_catches_errors(void)
{
    struct rng r;
    rng_init(&r, 31, 0);
    struct nn *net = mk_resln(4, 3, 6, 2, NN_ACT_SILU, 5);
    float *x = randn(&r, 3 * 4, 1), *w = randn(&r, 3 * 3, 1);
    const struct gc_mode *modes[2] = {&GC_F64, &GC_F32};
    for (int m = 0; m < 2; m++) {
        struct gc ok = gradcheck(modes[m], net, x, 3, w, -1, -1);
        T_CHECK(ok.max_err < modes[m]->tol);
        int caught = 0, tries = 0;
        for (int i = 0; i < net->n_layers; i++) {
            const struct nn_layer *L = &net->layer[i];
            long idx[4] = {(long)L->w + 1, (long)L->b, L->ln ? (long)L->g : -1,
                           L->ln ? (long)L->beta + 1 : -1};
            for (int k = 0; k < 4; k++) {
                if (idx[k] < 0)
                    continue;
                struct gc bad = gradcheck(modes[m], net, x, 3, w, idx[k], -1);
                tries++;
                caught += bad.max_err >= modes[m]->tol;
            }
        }
        struct gc bad_in = gradcheck(modes[m], net, x, 3, w, -1, 5);
        fprintf(stderr,
                "  %s checker: clean err %.3g; corrupted entries caught %d of %d, input %s\n",
                m ? "f32" : "f64", ok.max_err, caught, tries,
                bad_in.max_err >= modes[m]->tol ? "caught" : "MISSED");
        T_EQ_INT(caught, tries);
        T_CHECK(bad_in.max_err >= modes[m]->tol);
    }
    free(x);
    free(w);
    nn_destroy(&net);
}

/* the flow composition: t → time net → columns of the trunk input; gradients flow back to t */
static void test_gradcheck_composition(void)
{
    struct rng r;
    rng_init(&r, 41, 0);
    struct nn_spec st, sk;
    nn_spec_time_embed(&st, 4);
    st.time_scale = 2.0f;
    int D = 3, E = 4, S = 2, B = 3, IN = D + E + S;
    nn_spec_mlp(&sk, IN, D, 6, 3, NN_ACT_SILU);
    sk.residual = true;
    struct nn *tn = mk(&st, 1), *tk = mk(&sk, 2);
    struct nn_ctx *ct = nn_ctx_new(tn, B), *ck = nn_ctx_new(tk, B);
    float *t = randn(&r, B, 0.5f), *xs = randn(&r, (size_t)B * IN, 1), *w = randn(&r, B * D, 1);
    float d_in[3 * 9], d_emb[3 * 4], d_t[3];
    /* analytic: L = Σ w ⊙ trunk([x | emb(t) | s]) */
    nn_zero_grad(tn);
    nn_zero_grad(tk);
    const float *emb = nn_forward(tn, ct, t, B);
    nn_copy_cols(xs + D, IN, emb, E, B, E);
    nn_forward(tk, ck, xs, B);
    nn_backward(tk, ck, w, d_in);
    nn_copy_cols(d_emb, E, d_in + D, IN, B, E);
    nn_backward(tn, ct, d_emb, d_t);
    /* numeric d/dt and d/d(time-net params) through both nets (float, step h) */
    const double h = 1e-2;
    double max_e = 0;
    for (int k = 0; k < B + (int)tn->n_params; k++) {
        float *v = k < B ? &t[k] : &tn->params[k - B];
        double a = k < B ? d_t[k] : tn->grads[k - B], L[2];
        float v0 = *v;
        for (int sgn = 0; sgn < 2; sgn++) {
            float out[3 * 3];
            *v = (float)(v0 + (sgn ? -h : h));
            nn_infer(tn, ct, t, d_emb, B);
            nn_copy_cols(xs + D, IN, d_emb, E, B, E);
            nn_infer(tk, ck, xs, out, B);
            L[sgn] = 0;
            for (int i = 0; i < B * D; i++)
                L[sgn] += (double)w[i] * out[i];
        }
        *v = v0;
        double n = (L[0] - L[1]) / (2 * h);
        max_e = fmax(max_e, fabs(a - n) / (fmax(fabs(a), fabs(n)) + GC_F32.atol));
    }
    fprintf(stderr, "  time net + trunk composition: max rel err %.3g\n", max_e);
    T_CHECK(max_e < GC_F32.tol);
    free(t);
    free(xs);
    free(w);
    nn_ctx_destroy(&ct);
    nn_ctx_destroy(&ck);
    nn_destroy(&tn);
    nn_destroy(&tk);
}

/* input-only backward (∇ₐQ) and a forward filled in parts, against the whole-batch passes */
static void test_input_grad_and_parts(void)
{
    struct rng r;
    rng_init(&r, 67, 0);
    for (int v = 0; v < 2; v++) {
        struct nn_spec s;
        nn_spec_mlp(&s, 6, 2, 12, 3, v ? NN_ACT_RELU : NN_ACT_SILU);
        s.layer_norm = v == 0;
        s.residual = v == 1;
        struct nn *net = mk(&s, 5 + v);
        int B = 7;
        size_t n = net->n_params;
        struct nn_ctx *cx = nn_ctx_new(net, B);
        float *x = randn(&r, (size_t)B * 6, 1), *dy = randn(&r, (size_t)B * 2, 1);
        float *dx = malloc(sizeof(float) * B * 6), *dx2 = malloc(sizeof(float) * B * 6);
        float *g = malloc(n * sizeof(float)), *y = malloc(sizeof(float) * B * 2);
        nn_zero_grad(net);
        memcpy(y, nn_forward(net, cx, x, B), sizeof(float) * B * 2);
        nn_backward(net, cx, dy, dx);
        memcpy(g, net->grads, n * sizeof(float));
        /* the input gradient alone: the same d_in, parameter gradients untouched */
        nn_backward_input(net, cx, dy, dx2);
        T_CHECK(memcmp(dx, dx2, sizeof(float) * B * 6) == 0);
        T_CHECK(memcmp(g, net->grads, n * sizeof(float)) == 0);
        /* rows [0, 3) then [3, 7) in two calls, then one backward over all 7 */
        const float *y0 = nn_forward_rows(net, cx, x, 0, 3);
        const float *y1 = nn_forward_rows(net, cx, x + 3 * 6, 3, 4);
        double d = 0, dg = 0;
        for (int j = 0; j < 3 * 2; j++)
            d = fmax(d, fabs(y0[j] - y[j]));
        for (int j = 0; j < 4 * 2; j++)
            d = fmax(d, fabs(y1[j] - y[3 * 2 + j]));
        nn_zero_grad(net);
        nn_backward(net, cx, dy, dx2);
        for (size_t k = 0; k < n; k++)
            dg = fmax(dg, fabs(net->grads[k] - g[k]));
        for (int j = 0; j < B * 6; j++)
            dg = fmax(dg, fabs(dx2[j] - dx[j]));
        fprintf(stderr, "  %s: forward in parts vs whole: out %.3g, grads and d_in %.3g\n",
                v ? "residual relu" : "layernorm silu", d, dg);
        T_CHECK(d < 1e-6 && dg < 1e-5);
        free(x), free(dy), free(dx), free(dx2), free(g), free(y);
        nn_ctx_destroy(&cx);
        nn_destroy(&net);
    }
}

int main(void)
{
    T_RUN(test_gradcheck_layers);
    T_RUN(test_gradcheck_networks);
    T_RUN(test_gradcheck_catches_errors);
    T_RUN(test_gradcheck_composition);
    T_RUN(test_input_grad_and_parts);
    return T_DONE("nn_grad");
}
