/*
 * afile.h — write a file atomically: into a temp file beside it (path.tmp.<pid>), fsync, then
 * rename over path and fsync the folder, so a reader sees the old file or the new one, never
 * a part. Not thread-safe per struct afile (one writer each); no global state.
 */
#ifndef RL_AFILE_H
#define RL_AFILE_H

#include <stddef.h>
#include <stdio.h>

/* One write in progress. Embedded by the caller; afile_open fills it. */
struct afile {
    char *path; /* destination (a copy) */
    char *tmp;  /* the temp file written until commit */
    int fd;     /* open on tmp; -1 when closed */
    FILE *f;    /* stdio stream over fd once afile_stream asked for it */
};

/* Create path's temp file (a stale one of the same name is replaced) with the given mode (the
 * umask applies). 0 or -errno; on failure a holds nothing to release. */
int afile_open(struct afile *a, const char *path, int mode);

/* A stdio stream over the temp file (made on first call, then the same one), or NULL with
 * errno set. Borrowed: afile_commit/afile_abort close it. */
FILE *afile_stream(struct afile *a);

/* Write all n bytes of buf to the temp file (retries short writes). 0 or -errno. */
int afile_write(struct afile *a, const void *buf, size_t n);

/* Flush, fsync and close the temp file, rename it over path and fsync the folder. 0 or -errno;
 * on failure the temp file is removed and path is untouched. Always releases a. */
int afile_commit(struct afile *a);

/* Close and remove the temp file; path is untouched. No-op on a released or zeroed struct. */
void afile_abort(struct afile *a);

#endif
