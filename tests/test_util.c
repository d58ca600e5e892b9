/* test_util.c — the formatted error helper and atomic file writes (commit, abort, failures). */
#include "common/afile.h"
#include "common/util.h"
#include "tests/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rldt-test-util-XXXXXX";

static void test_err(void)
{
    char err[16] = "untouched";
    T_EQ_INT(rl_err(-EPROTO, err, sizeof(err), "bad %s %d", "field", 7), -EPROTO);
    T_EQ_STR(err, "bad field 7");
    // truncated to the buffer, still terminated
    T_EQ_INT(rl_err(-EINVAL, err, sizeof(err), "%s", "a reason longer than sixteen"), -EINVAL);
    T_EQ_INT((int)strlen(err), 15);
    // no buffer: only the code
    T_EQ_INT(rl_err(-ENOMEM, NULL, 0, "x"), -ENOMEM);
    T_EQ_INT(rl_err(0, err, 0, "y"), 0);
    T_CHECK(err[0] == 'a');
}

static void test_write_all(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/w.bin", dir);
    static char big[300000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    T_CHECK(fd >= 0);
    T_EQ_INT(rl_write_all(fd, big, sizeof(big)), 0);
    T_EQ_INT(rl_write_all(fd, big, 0), 0);
    close(fd);
    struct stat st;
    T_CHECK(stat(path, &st) == 0 && st.st_size == (off_t)sizeof(big));
    unlink(path);
    T_EQ_INT(rl_write_all(-1, big, 1), -EBADF);
}

static void read_text(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = 0;
    fclose(f);
}

// files in dir other than the ones a test names: leftover temp files
static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_commit_abort(void)
{
    char path[128], buf[64];
    snprintf(path, sizeof(path), "%s/out.txt", dir);
    struct afile a;
    T_EQ_INT(afile_open(&a, path, 0644), 0);
    T_EQ_INT(afile_write(&a, "one ", 4), 0);
    FILE *f = afile_stream(&a);
    T_CHECK(f && afile_stream(&a) == f);
    fputs("two ", f);
    T_EQ_INT(afile_write(&a, "three", 5), 0); /* after the buffered stream text */
    struct stat st;
    T_CHECK(stat(path, &st) != 0); /* nothing at path before the commit */
    T_EQ_INT(afile_commit(&a), 0);
    read_text(path, buf, sizeof(buf));
    T_EQ_STR(buf, "one two three");
    T_EQ_INT(entries(), 1);
    // an aborted rewrite leaves the old file as it was and no temp file
    T_EQ_INT(afile_open(&a, path, 0644), 0);
    T_EQ_INT(afile_write(&a, "partial", 7), 0);
    afile_abort(&a);
    afile_abort(&a); /* released: a no-op */
    read_text(path, buf, sizeof(buf));
    T_EQ_STR(buf, "one two three");
    T_EQ_INT(entries(), 1);
    // a committed rewrite replaces it
    T_EQ_INT(afile_open(&a, path, 0600), 0);
    T_EQ_INT(afile_write(&a, "new", 3), 0);
    T_EQ_INT(afile_commit(&a), 0);
    read_text(path, buf, sizeof(buf));
    T_EQ_STR(buf, "new");
    T_EQ_INT(entries(), 1);
    unlink(path);
}

static void test_failures(void)
{
    char path[160];
    struct afile a;
    snprintf(path, sizeof(path), "%s/no/such/dir/x", dir);
    T_EQ_INT(afile_open(&a, path, 0644), -ENOENT);
    afile_abort(&a); /* nothing held */
    // rename over a non-empty directory fails: the temp file goes, the directory stays
    snprintf(path, sizeof(path), "%s/d", dir);
    T_EQ_INT(mkdir(path, 0755), 0);
    char inner[200];
    snprintf(inner, sizeof(inner), "%s/f", path);
    FILE *f = fopen(inner, "w");
    T_CHECK(f != NULL);
    if (f)
        fclose(f);
    T_EQ_INT(afile_open(&a, path, 0644), 0);
    T_EQ_INT(afile_write(&a, "x", 1), 0);
    int rc = afile_commit(&a);
    T_CHECK_MSG(rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST, "rc %d", rc);
    T_EQ_INT(entries(), 1);
    unlink(inner);
    rmdir(path);
    // a stale temp file of the same name (a crashed earlier writer) is replaced
    snprintf(path, sizeof(path), "%s/s", dir);
    char stale[220];
    snprintf(stale, sizeof(stale), "%s.tmp.%d", path, (int)getpid());
    T_EQ_INT(symlink("/nonexistent-target", stale), 0);
    T_EQ_INT(afile_open(&a, path, 0644), 0);
    T_EQ_INT(afile_commit(&a), 0);
    struct stat st;
    T_CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
    T_EQ_INT(entries(), 1);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    T_RUN(test_err);
    T_RUN(test_write_all);
    T_RUN(test_commit_abort);
    T_RUN(test_failures);
    rmdir(dir);
    return T_DONE("util");
}
