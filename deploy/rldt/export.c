/*
 * export.c — `rldt export --policy=P --out=policy.onnx [--deterministic]`: a flow policy as an
 * ONNX model (proto/onnx.h, opset ONNX_OPSET) that computes what policy_act computes.
 *
 * Graph (B = batch, O obs, H chunk, A act, D = H·A, N Euler steps, t_k = k/N):
 *   s = 2 (obs − lo) / (hi − lo + 1e-6) − 1                  (when the policy has bounds)
 *   x_{k+1} = x_k + v(x_k, t_k | s) / N,  k = 0..N−1           (unrolled)
 *   a = clip(x_N, −1, 1)                                        (--deterministic: x_0 = 0)
 *   a = clip(x_N + ‖x_N − â_{N−2}‖ ξ, −1, 1)                   (noise inputs x0 = x_0, xi = ξ)
 *   actions = (a + 1) / 2 (hi − lo + 1e-6) + lo, shape (B, H, A)
 * t_k is a constant of each step, so its time embedding is computed here and folded into the
 * first trunk layer's bias of that step (its x and s columns stay MatMuls: s once, x per step).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/nn.h"
#include "common/norm.h"
#include "common/policy.h"
#include "common/task.h"
#include "common/version.h"
#include "deploy/rldt/cmd.h"
#include "proto/onnx.h"

#define EXPORT_USAGE                                                                               \
    "rldt export --policy=P --out=policy.onnx [--deterministic] [--force]\n"                       \
    "  inputs: obs (batch, O); without --deterministic also x0 (batch, H*A), the initial noise,\n" \
    "  and xi (batch, H*A), the exploration noise (both standard normal); output: actions\n"       \
    "  (batch, H, A) in the env's action range"

#define NAME 48

/* the graph being built; rc is sticky: after a failure every call is a no-op */
struct gx {
    struct onnx_model *m;
    const struct flow *f;
    int rc;
};

static void node(struct gx *g, const char *op, const char *out, int nin, ...)
{
    const char *in[4];
    va_list ap;
    va_start(ap, nin);
    for (int i = 0; i < nin && i < 4; i++)
        in[i] = va_arg(ap, const char *);
    va_end(ap);
    if (!g->rc)
        g->rc = onnx_node(g->m, op, in, nin, out);
}

static void cfloat(struct gx *g, const char *name, int rank, int64_t d0, int64_t d1, const float *v)
{
    int64_t dims[2] = {d0, d1};
    if (!g->rc)
        g->rc = onnx_const_f(g->m, name, rank, dims, v);
}

/* constant (cols, out) = the transpose of columns [c0, c0 + cols) of W (out, in) */
static void cweight_t(struct gx *g, const char *name, const float *W, int out, int in, int c0,
                      int cols)
{
    float *t = malloc((size_t)cols * out * sizeof(float));
    if (!t) {
        g->rc = g->rc ? g->rc : -ENOMEM;
        return;
    }
    for (int j = 0; j < cols; j++)
        for (int o = 0; o < out; o++)
            t[(size_t)j * out + o] = W[(size_t)o * in + c0 + j];
    cfloat(g, name, 2, cols, out, t);
    free(t);
}

/* LayerNorm, activation and skip of layer l after its affine part z; the result in out */
static void post(struct gx *g, int l, const char *z, const char *y_in, const char *tag, char *out)
{
    const struct nn_layer *L = &g->f->trunk->layer[l];
    char u[NAME], a[NAME], tmp[NAME], p[NAME];
    snprintf(u, NAME, "%s", z);
    if (L->ln) {
        snprintf(u, NAME, "%s_ln%d", tag, l);
        snprintf(p, NAME, "g%d", l);
        snprintf(tmp, NAME, "beta%d", l);
        node(g, "LayerNormalization", u, 3, z, p, tmp);
        if (!g->rc)
            g->rc = onnx_attr_float(g->m, "epsilon", NN_LN_EPS);
    }
    snprintf(a, NAME, "%s_a%d", tag, l);
    snprintf(tmp, NAME, "%s_t%d", tag, l);
    switch (L->act) {
    case NN_ACT_RELU:
        node(g, "Relu", a, 1, u);
        break;
    case NN_ACT_TANH:
        node(g, "Tanh", a, 1, u);
        break;
    case NN_ACT_SILU: /* u σ(u) */
        node(g, "Sigmoid", tmp, 1, u);
        node(g, "Mul", a, 2, u, tmp);
        break;
    case NN_ACT_MISH: /* u tanh(softplus(u)); opset 17 has no Mish */
        snprintf(p, NAME, "%s_sp%d", tag, l);
        node(g, "Softplus", p, 1, u);
        node(g, "Tanh", tmp, 1, p);
        node(g, "Mul", a, 2, u, tmp);
        break;
    default:
        snprintf(a, NAME, "%s", u);
    }
    if (L->skip) {
        snprintf(out, NAME, "%s_y%d", tag, l);
        node(g, "Add", out, 2, y_in, a);
    } else {
        snprintf(out, NAME, "%s", a);
    }
}

/* the shared constants: trunk layers l >= 1, layer 0's x and s columns, bounds */
static void constants(struct gx *g, const float *bounds)
{
    const struct nn *k = g->f->trunk;
    const struct flow_spec *s = &g->f->spec;
    int D = g->f->D, E = s->temb, O = s->obs_dim, A = s->act_dim;
    const struct nn_layer *L0 = &k->layer[0];
    cweight_t(g, "W0x", k->params + L0->w, L0->out, L0->in, 0, D);
    cweight_t(g, "W0s", k->params + L0->w, L0->out, L0->in, D + E, O);
    for (int l = 0; l < k->n_layers; l++) {
        const struct nn_layer *L = &k->layer[l];
        char n[NAME];
        if (l > 0) {
            snprintf(n, NAME, "W%d", l);
            cweight_t(g, n, k->params + L->w, L->out, L->in, 0, L->in);
            snprintf(n, NAME, "b%d", l);
            cfloat(g, n, 1, L->out, 0, k->params + L->b);
        }
        if (L->ln) {
            snprintf(n, NAME, "g%d", l);
            cfloat(g, n, 1, L->out, 0, k->params + L->g);
            snprintf(n, NAME, "beta%d", l);
            cfloat(g, n, 1, L->out, 0, k->params + L->beta);
        }
    }
    float one = 1.0f, two = 2.0f, half = 0.5f, h = 1.0f / (float)s->steps, lo = -1.0f, hi = 1.0f;
    cfloat(g, "one", 0, 0, 0, &one);
    cfloat(g, "two", 0, 0, 0, &two);
    cfloat(g, "half", 0, 0, 0, &half);
    cfloat(g, "h", 0, 0, 0, &h);
    cfloat(g, "clip_lo", 0, 0, 0, &lo);
    cfloat(g, "clip_hi", 0, 0, 0, &hi);
    if (!bounds)
        return;
    float *den = malloc((size_t)(O + A) * sizeof(float));
    if (!den) {
        g->rc = g->rc ? g->rc : -ENOMEM;
        return;
    }
    for (int i = 0; i < O; i++)
        den[i] = bounds[O + i] - bounds[i] + NORM_EPS;
    for (int i = 0; i < A; i++)
        den[O + i] = bounds[2 * O + A + i] - bounds[2 * O + i] + NORM_EPS;
    cfloat(g, "obs_lo", 1, O, 0, bounds);
    cfloat(g, "obs_den", 1, O, 0, den);
    cfloat(g, "act_lo", 1, A, 0, bounds + 2 * O);
    cfloat(g, "act_den", 1, A, 0, den + O);
    free(den);
}

/* layer 0's bias of step k: b0 + W0[:, D:D+E] temb_k */
static void step_bias(struct gx *g, int k, const float *temb)
{
    const struct nn *t = g->f->trunk;
    const struct nn_layer *L0 = &t->layer[0];
    int D = g->f->D, E = g->f->spec.temb;
    float *b = malloc((size_t)L0->out * sizeof(float));
    if (!b) {
        g->rc = g->rc ? g->rc : -ENOMEM;
        return;
    }
    for (int o = 0; o < L0->out; o++) {
        const float *w = t->params + L0->w + (size_t)o * L0->in + D;
        double acc = t->params[L0->b + o];
        for (int e = 0; e < E; e++)
            acc += (double)w[e] * temb[e];
        b[o] = (float)acc;
    }
    char n[NAME];
    snprintf(n, NAME, "bias0_k%d", k);
    cfloat(g, n, 1, L0->out, 0, b);
    free(b);
}

/* one Euler step: x (name, or NULL for x_0 = 0) -> x_{k+1} named next */
static void euler_step(struct gx *g, int k, const char *x, char *next)
{
    const struct nn *t = g->f->trunk;
    char tag[16], z[NAME], p[NAME], y[NAME], w[NAME], b[NAME];
    snprintf(tag, sizeof(tag), "k%d", k);
    snprintf(b, NAME, "bias0_k%d", k);
    snprintf(p, NAME, "%s", "s_w0");
    if (x) {
        snprintf(z, NAME, "%s_xw0", tag);
        node(g, "MatMul", z, 2, x, "W0x");
        snprintf(p, NAME, "%s_p0", tag);
        node(g, "Add", p, 2, z, "s_w0");
    }
    snprintf(z, NAME, "%s_z0", tag);
    node(g, "Add", z, 2, p, b);
    post(g, 0, z, NULL, tag, y);
    for (int l = 1; l < t->n_layers; l++) {
        char m[NAME], in[NAME];
        snprintf(in, NAME, "%s", y);
        snprintf(w, NAME, "W%d", l);
        snprintf(b, NAME, "b%d", l);
        snprintf(m, NAME, "%s_m%d", tag, l);
        snprintf(z, NAME, "%s_z%d", tag, l);
        node(g, "MatMul", m, 2, in, w);
        node(g, "Add", z, 2, m, b);
        post(g, l, z, in, tag, y);
    }
    snprintf(p, NAME, "%s_hv", tag);
    node(g, "Mul", p, 2, y, "h");
    snprintf(next, NAME, "x%d", k + 1);
    if (x)
        node(g, "Add", next, 2, x, p);
    else
        node(g, "Identity", next, 1, p);
}

/* obs -> s (normalised) -> s_w0 = s W0s */
static void observation(struct gx *g, bool bounded)
{
    const char *s = "obs";
    if (bounded) {
        node(g, "Sub", "obs_c", 2, "obs", "obs_lo");
        node(g, "Mul", "obs_2c", 2, "obs_c", "two");
        node(g, "Div", "obs_q", 2, "obs_2c", "obs_den");
        node(g, "Sub", "s", 2, "obs_q", "one");
        s = "s";
    }
    node(g, "MatMul", "s_w0", 2, s, "W0s");
}

/* x_N (and the chain) -> a in [-1, 1] -> actions (B, H, A) */
static void actions(struct gx *g, bool noise, bool bounded)
{
    int N = g->f->spec.steps;
    char xN[NAME], x1[NAME], x2[NAME];
    snprintf(xN, NAME, "x%d", N);
    const char *a = xN;
    if (noise && N >= 2) { /* â = x_{N−2} + 2 (x_{N−1} − x_{N−2}); σ = ‖x_N − â‖ per row */
        snprintf(x1, NAME, "x%d", N - 1);
        snprintf(x2, NAME, "x%d", N - 2);
        node(g, "Sub", "dx", 2, x1, x2);
        node(g, "Mul", "dx2", 2, "dx", "two");
        node(g, "Add", "ahat", 2, x2, "dx2");
        node(g, "Sub", "res", 2, xN, "ahat");
        node(g, "ReduceL2", "sigma", 1, "res");
        int64_t axes[1] = {1};
        if (!g->rc)
            g->rc = onnx_attr_ints(g->m, "axes", axes, 1);
        if (!g->rc)
            g->rc = onnx_attr_int(g->m, "keepdims", 1);
        node(g, "Mul", "sxi", 2, "sigma", "xi");
        node(g, "Add", "xn_noisy", 2, xN, "sxi");
        a = "xn_noisy";
    }
    node(g, "Clip", "a_clip", 3, a, "clip_lo", "clip_hi");
    int64_t shape[3] = {-1, g->f->spec.chunk, g->f->spec.act_dim};
    if (!g->rc)
        g->rc = onnx_const_i64(g->m, "chunk_shape", 1, (int64_t[]){3}, shape);
    const char *out = bounded ? "a3" : "actions";
    node(g, "Reshape", out, 2, "a_clip", "chunk_shape");
    if (bounded) {
        node(g, "Add", "a_p1", 2, "a3", "one");
        node(g, "Mul", "a_half", 2, "a_p1", "half");
        node(g, "Mul", "a_scaled", 2, "a_half", "act_den");
        node(g, "Add", "actions", 2, "a_scaled", "act_lo");
    }
}

/* the time embeddings of the N steps, (N, E), as flow_sample computes them */
static float *step_embeddings(const struct flow *f)
{
    int N = f->spec.steps, E = f->spec.temb;
    float *tk = malloc((size_t)N * sizeof(float));
    float *temb = malloc((size_t)N * E * sizeof(float));
    struct nn_ctx *cx = nn_ctx_new_infer(f->tnet, N);
    if (tk && temb && cx) {
        for (int k = 0; k < N; k++)
            tk[k] = (float)k / (float)N;
        nn_infer(f->tnet, cx, tk, temb, N);
    } else {
        free(temb);
        temb = NULL;
    }
    nn_ctx_destroy(&cx);
    free(tk);
    return temb;
}

static int build(struct gx *g, const float *bounds, bool noise)
{
    const struct flow_spec *s = &g->f->spec;
    int N = s->steps, D = g->f->D;
    float *temb = step_embeddings(g->f);
    if (!temb)
        return -ENOMEM;
    int64_t in_obs[2] = {-1, s->obs_dim}, in_x[2] = {-1, D};
    int64_t out[3] = {-1, s->chunk, s->act_dim};
    g->rc = onnx_input(g->m, "obs", 2, in_obs);
    if (noise && !g->rc)
        g->rc = onnx_input(g->m, "x0", 2, in_x);
    if (noise && N >= 2 && !g->rc)
        g->rc = onnx_input(g->m, "xi", 2, in_x);
    constants(g, bounds);
    for (int k = 0; k < N; k++)
        step_bias(g, k, temb + (size_t)k * s->temb);
    free(temb);
    observation(g, bounds != NULL);
    char x[NAME], next[NAME];
    snprintf(x, NAME, "x0");
    for (int k = 0; k < N; k++) {
        euler_step(g, k, noise || k > 0 ? x : NULL, next);
        snprintf(x, NAME, "%s", next);
    }
    actions(g, noise, bounds != NULL);
    if (!g->rc)
        g->rc = onnx_output(g->m, "actions", 3, out);
    return g->rc;
}

/* the flow policy of a checkpoint with its bounds (2O + 2A; has_bounds) */
static struct flow *load_flow(const char *path, float **bounds, char *err, size_t errlen)
{
    struct rl_config c;
    struct policy *p = policy_load(path, &c, 1, err, errlen);
    if (!p)
        return NULL;
    bool is_flow = !strcmp(policy_kind(p), "flow");
    policy_destroy(&p);
    if (!is_flow) {
        snprintf(err, errlen, "%s: only flow policies export (this one is %s)", path,
                 policy_kind_for_algo(c.algo) ? policy_kind_for_algo(c.algo) : "?");
        return NULL;
    }
    const struct task_info *t = task_find(c.env);
    struct flow_spec s;
    if (flow_spec_from_config(&s, &c, t->obs_dim, t->act_dim, c.chunk, err, errlen))
        return NULL;
    struct flow *f = flow_new(&s, err, errlen);
    *bounds = malloc((size_t)(2 * s.obs_dim + 2 * s.act_dim) * sizeof(float));
    bool hb = false;
    if (!f || !*bounds || flow_load_weights(path, f, *bounds, &hb, err, errlen)) {
        if (f && !*bounds)
            snprintf(err, errlen, "out of memory");
        flow_destroy(&f);
    }
    if (!f || !hb) {
        free(*bounds);
        *bounds = NULL;
    }
    return f;
}

int cmd_export(int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(&c, "rldt export", EXPORT_USAGE, "-policy,-out,-deterministic,-force", argc,
                        argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!c.out[0] || !strcmp(c.policy, "random") || !strcmp(c.policy, "zero")) {
        fprintf(stderr, "usage: %s\n", EXPORT_USAGE);
        return 2;
    }
    if (!c.force && access(c.out, F_OK) == 0) {
        fprintf(stderr, "rldt export: %s exists (--force to replace it)\n", c.out);
        return 2;
    }
    char err[600];
    float *bounds = NULL;
    struct flow *f = load_flow(c.policy, &bounds, err, sizeof(err));
    if (!f) {
        fprintf(stderr, "rldt export: %s\n", err);
        return 1;
    }
    struct gx g = {onnx_model_new("rldt_flow_policy", EXPORT_USAGE), f, 0};
    rc = g.m ? build(&g, bounds, !c.deterministic) : -ENOMEM;
    if (rc)
        snprintf(err, sizeof(err), "cannot build the graph: %s", strerror(-rc));
    else
        rc = onnx_model_save(g.m, c.out, RLDT_VERSION, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "rldt export: %s\n", err);
    } else {
        printf("exported %s (%s, %d Euler steps, chunk %d x %d, %d nodes, opset %d) -> %s\n",
               c.policy, c.deterministic ? "deterministic" : "noise inputs x0, xi", f->spec.steps,
               f->spec.chunk, f->spec.act_dim, onnx_node_count(g.m), ONNX_OPSET, c.out);
    }
    onnx_model_destroy(&g.m);
    flow_destroy(&f);
    free(bounds);
    return rc ? 1 : 0;
}
