/*
 * svgd.h — the transport field of RLDT (learner/algo/README.md §3): for each state, K query points
 * â_i (expected targets of the particles) and the K final actions a_j of the same state with the
 * critic's action gradients g_j = ∇ₐQ(s, a_j),
 *
 *   φ_i = (1/K) Σ_j K_ij [ g_j + α_s (â_i − a_j) / h_i ],   K_ij = exp(−‖â_i − a_j‖² / (2 h_i)),
 *   h_i = max(median_j ‖â_i − a_j‖² / (2 log(K + 1)), 1e-8),
 *   α_s = clamp(0.001 · mean_j ‖g_j‖, 0, 1e5).
 *
 * Distances are over the flattened chunk (D). The median of an even count is the mean of the
 * two middle values. Rows are grouped by state: particle i of state s is row s·K + i.
 * Pure functions on caller buffers: thread-safe, no allocation.
 */
#ifndef RL_SVGD_H
#define RL_SVGD_H

#include <stddef.h>

#define SVGD_ALPHA_SCALE 1e-3 /* α_s = SVGD_ALPHA_SCALE · mean ‖∇ₐQ‖ */
#define SVGD_ALPHA_MAX 1e5
#define SVGD_H_MIN 1e-8

/* Diagnostics of one field evaluation (means over states or particles). */
struct svgd_stats {
    double grad_norm; /* mean_j ‖g_j‖ */
    double kernel_grad_norm; /* mean_i ‖(1/K) Σ_j K_ij α_s (â_i − a_j)/h_i‖ (the repulsive part) */
    double phi_norm;         /* mean_i ‖φ_i‖ */
    double alpha;            /* mean_s α_s */
    double bandwidth; /* mean_i h_i */
};

/* Doubles of scratch svgd_field needs for K particles per state of D dims. */
size_t svgd_work_size(int K, int D);

/*
 * The field for S states of K particles: ahat, a, g and phi are (S·K, D); work holds
 * svgd_work_size(K, D) doubles. Fills st when not NULL. Nullable: st.
 */
void svgd_field(const float *ahat, const float *a, const float *g, int S, int K, int D, float *phi,
                double *work, struct svgd_stats *st);

/* Mean pairwise distance ‖a_i − a_j‖ (i ≠ j) among the K particles of each state, averaged
 * over the S states; 0 when K < 2. a is (S·K, D). */
double svgd_diversity(const float *a, int S, int K, int D);

#endif
