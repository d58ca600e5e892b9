/*
 * svgd.c — the SVGD transport field with the median bandwidth and the gradient-scaled
 * repulsion (svgd.h). K is small (8): a state's K×K distances are computed directly, in
 * double, next to the networks' GEMMs this costs nothing.
 */
#include "learner/algo/svgd.h"

#include <math.h>
#include <string.h>

size_t svgd_work_size(int K, int D)
{
    return 2 * (size_t)K + 2 * (size_t)D;
}

/* median of x[0..n) (mean of the two middle values when n is even); sorts a copy in srt */
static double median(const double *x, double *srt, int n)
{
    for (int i = 0; i < n; i++) {
        double v = x[i];
        int j = i;
        for (; j > 0 && srt[j - 1] > v; j--)
            srt[j] = srt[j - 1];
        srt[j] = v;
    }
    return n % 2 ? srt[n / 2] : 0.5 * (srt[n / 2 - 1] + srt[n / 2]);
}

static double dist2(const float *x, const float *y, int D)
{
    double s = 0;
    for (int k = 0; k < D; k++) {
        double d = (double)x[k] - y[k];
        s += d * d;
    }
    return s;
}

static double norm_d(const double *x, int D)
{
    double s = 0;
    for (int k = 0; k < D; k++)
        s += x[k] * x[k];
    return sqrt(s);
}

static double norm_f(const float *x, int D)
{
    double s = 0;
    for (int k = 0; k < D; k++)
        s += (double)x[k] * x[k];
    return sqrt(s);
}

/* φ of the K particles of one state; adds this state's diagnostics to st */
static void field_state(const float *ahat, const float *a, const float *g, int K, int D, float *phi,
                        double *work, struct svgd_stats *st)
{
    double *d2 = work, *srt = work + K, *acc = work + 2 * K, *rep = acc + D;
    double gn = 0;
    for (int j = 0; j < K; j++)
        gn += norm_f(g + (size_t)j * D, D);
    st->grad_norm += gn;
    double alpha = SVGD_ALPHA_SCALE * gn / K;
    alpha = alpha < 0 ? 0 : alpha > SVGD_ALPHA_MAX ? SVGD_ALPHA_MAX : alpha;
    st->alpha += alpha;
    double lk = 2.0 * log(K + 1.0);
    for (int i = 0; i < K; i++) {
        const float *ai = ahat + (size_t)i * D;
        for (int j = 0; j < K; j++)
            d2[j] = dist2(ai, a + (size_t)j * D, D);
        double h = median(d2, srt, K) / lk;
        h = h >= SVGD_H_MIN ? h : SVGD_H_MIN;
        st->bandwidth += h;
        memset(acc, 0, 2 * (size_t)D * sizeof(double));
        for (int j = 0; j < K; j++) {
            double kij = exp(-d2[j] / (2.0 * h)) / K;
            const float *aj = a + (size_t)j * D, *gj = g + (size_t)j * D;
            double c = kij * alpha / h;
            for (int k = 0; k < D; k++) {
                double r = c * ((double)ai[k] - aj[k]);
                acc[k] += kij * gj[k] + r;
                rep[k] += r;
            }
        }
        for (int k = 0; k < D; k++)
            phi[(size_t)i * D + k] = (float)acc[k];
        st->kernel_grad_norm += norm_d(rep, D);
        st->phi_norm += norm_d(acc, D);
    }
}

void svgd_field(const float *ahat, const float *a, const float *g, int S, int K, int D, float *phi,
                double *work, struct svgd_stats *st)
{
    struct svgd_stats sum = {0};
    for (int s = 0; s < S; s++) {
        size_t o = (size_t)s * K * D;
        field_state(ahat + o, a + o, g + o, K, D, phi + o, work, &sum);
    }
    if (!st)
        return;
    double P = (double)S * K;
    st->grad_norm = sum.grad_norm / P;
    st->kernel_grad_norm = sum.kernel_grad_norm / P;
    st->phi_norm = sum.phi_norm / P;
    st->alpha = sum.alpha / S;
    st->bandwidth = sum.bandwidth / P;
}

double svgd_diversity(const float *a, int S, int K, int D)
{
    if (K < 2 || S < 1)
        return 0;
    double sum = 0;
    for (int s = 0; s < S; s++) {
        const float *x = a + (size_t)s * K * D;
        for (int i = 0; i < K; i++)
            for (int j = i + 1; j < K; j++)
                sum += sqrt(dist2(x + (size_t)i * D, x + (size_t)j * D, D));
    }
    return sum / ((double)S * K * (K - 1) / 2);
}
