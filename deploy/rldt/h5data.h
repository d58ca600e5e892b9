/*
 * h5data.h — datasets (common/dataset.h) to and from HDF5 files in the two layouts offline-RL
 * data is shared in:
 *   D4RL:   root datasets observations (N, O), actions (N, A), rewards (N), terminals (N),
 *           timeouts (N), optional next_observations (N, O); episodes end where terminals or
 *           timeouts is set, rows after the last end form a cut episode.
 *   Minari: groups episode_0 .. episode_{E-1}, each with observations (T+1, O), actions (T, A),
 *           rewards (T), terminations (T), truncations (T); the extra observation is the final one.
 * Flags are read from bool (h5py's enum), integer or float datasets holding 0/1; values are read
 * as float32. Writes go to a temp file renamed into place (never a half-written file under the
 * name). Not thread-safe (libhdf5 serial).
 */
#ifndef RL_H5DATA_H
#define RL_H5DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "common/dataset.h"

enum h5data_layout {
    H5DATA_D4RL,
    H5DATA_MINARI,
};

/*
 * Read an HDF5 file in either layout (detected) into *d (initialised here; dataset_fini it on
 * success). The task is env, or the file's root attribute "env" when env is NULL; dimensions
 * must match the task's. Bounds are not fitted. 0, or -errno with a one-line reason in err
 * (missing keys, mismatched lengths, non-finite values, flags other than 0/1); d is left empty.
 * Nullable: env.
 */
int h5data_read(struct dataset *d, const char *path, const char *env, char *err, size_t errlen);

/*
 * Write d to path in the given layout, with root attributes env and source. D4RL: cut and
 * time-limit episodes both become timeouts; next_observations holds each row's successor (the
 * final observation at an episode's end). 0 or -errno + err.
 */
int h5data_write(const struct dataset *d, const char *path, enum h5data_layout layout, char *err,
                 size_t errlen);

#endif
