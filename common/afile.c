/*
 * afile.c — atomic file writes: temp file, fsync, rename, folder fsync.
 */
#include "common/afile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

static void release(struct afile *a)
{
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->f = NULL;
    a->fd = -1;
}

int afile_open(struct afile *a, const char *path, int mode)
{
    *a = (struct afile){.fd = -1};
    size_t n = strlen(path) + 32;
    a->path = strdup(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        release(a);
        return -ENOMEM;
    }
    snprintf(a->tmp, n, "%s.tmp.%d", path, (int)getpid());
    /* O_EXCL after removing a stale temp: never write through a link planted at its name */
    if (unlink(a->tmp) != 0 && errno != ENOENT) {
        int rc = -errno;
        release(a);
        return rc;
    }
    a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (a->fd < 0) {
        int rc = -errno;
        release(a);
        return rc;
    }
    return 0;
}

FILE *afile_stream(struct afile *a)
{
    if (!a->f && a->fd >= 0)
        a->f = fdopen(a->fd, "w");
    return a->f;
}

int afile_write(struct afile *a, const void *buf, size_t n)
{
    if (a->f && fflush(a->f) != 0) /* keep the order of stream and direct writes */
        return -errno;
    return rl_write_all(a->fd, buf, n);
}

static void fsync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

// flush and close the temp file: 0 or the first -errno
static int finish(struct afile *a)
{
    int rc = 0;
    if (a->f && fflush(a->f) != 0)
        rc = -errno;
    if (!rc && fsync(a->fd) != 0)
        rc = -errno;
    int closed = a->f ? fclose(a->f) : close(a->fd);
    if (closed != 0 && !rc)
        rc = -errno;
    a->f = NULL;
    a->fd = -1;
    return rc;
}

int afile_commit(struct afile *a)
{
    if (!a->tmp)
        return -EINVAL;
    int rc = finish(a);
    if (!rc && rename(a->tmp, a->path) != 0)
        rc = -errno;
    if (rc)
        unlink(a->tmp);
    else
        fsync_dir(a->path);
    release(a);
    return rc;
}

void afile_abort(struct afile *a)
{
    if (!a->tmp)
        return;
    if (a->f)
        fclose(a->f);
    else if (a->fd >= 0)
        close(a->fd);
    unlink(a->tmp);
    release(a);
}
