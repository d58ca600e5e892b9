/*
 * test_curve.c — curve.png from synthetic run directories: a valid PNG (signature, IHDR size)
 * from eval.csv, the metrics.csv fallback, bad rows skipped and counted, and clear errors (never
 * a crash) for missing, empty, malformed and garbage CSVs and unwritable outputs; `rldt plot`
 * exit codes when the tool is built.
 */
#include "deploy/rldt/curve.h"
#include "tests/harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[] = "/tmp/rldt-curve-XXXXXX";
static char run[400];
static int nrun;

static const char eval_head[] = "wall_s,env_steps,policy_version,return_mean,return_std,"
                                "length_mean\n";

// a fresh run directory with the given eval.csv and metrics.csv (NULL: no such file)
static const char *make_run(const char *eval, const char *metrics)
{
    snprintf(run, sizeof(run), "%s/run%d", root, nrun++);
    mkdir(run, 0755);
    const char *names[2] = {"eval.csv", "metrics.csv"};
    const char *text[2] = {eval, metrics};
    for (int i = 0; i < 2; i++) {
        if (!text[i])
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", run, names[i]);
        FILE *f = fopen(p, "w");
        fputs(text[i], f);
        fclose(f);
    }
    return run;
}

// 0 when path is a PNG of w x h (signature and the IHDR chunk)
static int png_size(const char *path, uint32_t *w, uint32_t *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    if (!f)
        return -ENOENT;
    size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    if (n != 24 || memcmp(b, sig, 8) || memcmp(b + 8, "\0\0\0\015IHDR", 8))
        return -EPROTO;
    *w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    *h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    return 0;
}

static bool exists(const char *dir, const char *name)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

// a temp file of an atomic write (curve.png.tmp.<pid>) left in dir
static bool temp_left(const char *dir)
{
    DIR *d = opendir(dir);
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d));)
        found |= strncmp(e->d_name, "curve.png.tmp", 13) == 0;
    if (d)
        closedir(d);
    return found;
}

static void write_config(const char *dir, const char *text)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/config.ini", dir);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

/* a sparse-reward run plots eval.csv's success_rate, not its return */
static void test_success_png(void)
{
    const char *csv = "wall_s,env_steps,policy_version,return_mean,return_std,length_mean,"
                      "success_rate\n"
                      "1,0,1,0.4,0.49,120,0.4\n"
                      "2,5000,2,0.5,0.5,110,nan\n"
                      "3,10000,3,0.7,0.46,90,0.7\n";
    const char *d = make_run(csv, NULL);
    write_config(d, "[run]\nalgo = rldt\nenv = lift\n");
    struct curve_info info;
    char err[512] = "";
    T_EQ_INT(curve_draw(d, NULL, &info, err, sizeof(err)), 0);
    T_CHECK(info.eval && info.success);
    T_EQ_INT(info.points, 2); /* the row without a success rate is skipped */
    T_EQ_INT(info.no_value, 1);
    // the same files on a dense task: the return, all three rows
    write_config(d, "[run]\nalgo = rldt\nenv = hopper\n");
    T_EQ_INT(curve_draw(d, NULL, &info, err, sizeof(err)), 0);
    T_CHECK(info.eval && !info.success);
    T_EQ_INT(info.points, 3);
    // success_threshold marks a plug-in's run as sparse; an eval.csv without the column fails
    d = make_run("wall_s,env_steps,return_mean,return_std\n1,0,0.5,0.5\n", NULL);
    write_config(d, "[run]\nenv = mytask\n[learner]\nsuccess_threshold = 1\n");
    T_EQ_INT(curve_draw(d, NULL, &info, err, sizeof(err)), -EPROTO);
    T_CHECK(strstr(err, "success_rate") != NULL);
}

static void test_eval_png(void)
{
    // a run resumed once (wall_s restarts), 40 evaluations
    char buf[8192];
    size_t off = snprintf(buf, sizeof(buf), "%s", eval_head);
    for (int i = 0; i < 40; i++)
        off += snprintf(buf + off, sizeof(buf) - off, "%.3f,%d,%d,%.3f,%.3f,%.1f\n",
                        (i < 25 ? i : i - 25) * 30.0 + 1, i * 5000, i * 10, 300 + 60.0 * i,
                        20 + i * 2.0, 200.0 + i);
    const char *d = make_run(buf, NULL);
    struct curve_info info;
    char err[512] = "";
    int rc = curve_draw(d, NULL, &info, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    T_EQ_INT(info.points, 40);
    T_EQ_INT(info.bad_rows, 0);
    T_CHECK(info.eval);
    char p[600];
    snprintf(p, sizeof(p), "%s/curve.png", d);
    uint32_t w = 0, h = 0;
    T_EQ_INT(png_size(p, &w, &h), 0);
    T_EQ_INT(w, CURVE_WIDTH);
    T_EQ_INT(h, CURVE_HEIGHT);
    T_CHECK(!temp_left(d));
    // redraw over the old file, and to another path
    T_EQ_INT(curve_draw(d, NULL, NULL, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/other.png", d);
    T_EQ_INT(curve_draw(d, p, NULL, err, sizeof(err)), 0);
    T_EQ_INT(png_size(p, &w, &h), 0);
}

static void test_single_point(void)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s1.0,0,1,14.6,0.2,18.9\n", eval_head);
    struct curve_info info;
    char err[512] = "";
    T_EQ_INT(curve_draw(make_run(buf, NULL), NULL, &info, err, sizeof(err)), 0);
    T_EQ_INT(info.points, 1);
    T_CHECK(exists(run, "curve.png"));
}

static void test_bad_rows(void)
{
    char buf[4096];
    snprintf(buf, sizeof(buf),
             "%s"
             "1.0,0,1,14.6,0.2,18.9\n"
             "2.0,1000,2,20.0\n"              /* too few fields */
             "3.0,2000,3,abc,1.0,20\n"        /* not a number */
             "4.0,-5,4,30.0,1.0,20\n"         /* negative steps */
             "5.0,4000,5,nan,nan,0\n"         /* no value */
             "\n"                             /* blank: ignored */
             "6.0,5000,6,50.0,inf,22\r\n"     /* CRLF; inf std counts as 0 */
             "7.0,6000,7,60.0,1.0,23,extra\n" /* too many fields */
             "8.0,7000,8,70",                 /* being written: ignored */
             eval_head);
    struct curve_info info;
    char err[512] = "";
    int rc = curve_draw(make_run(buf, NULL), NULL, &info, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    T_EQ_INT(info.points, 2);
    T_EQ_INT(info.bad_rows, 4);
    T_EQ_INT(info.no_value, 1);
}

static void test_metrics_fallback(void)
{
    const char *metrics = "wall_s,env_steps,chunk_steps,updates,policy_version,replay,episodes,"
                          "return_recent,eval_return,eval_env_steps,critic_loss\n"
                          "5.0,7421,7421,408,5,7421,0,nan,nan,0,0.98\n"
                          "10.0,7897,7897,880,9,7897,380,14.07,nan,0,1.75\n"
                          "15.0,9000,9000,1300,12,9000,420,18.5,nan,0,1.5\n";
    struct curve_info info;
    char err[512] = "";
    // no eval.csv, then an eval.csv with only its header: both fall back to metrics.csv
    T_EQ_INT(curve_draw(make_run(NULL, metrics), NULL, &info, err, sizeof(err)), 0);
    T_CHECK(!info.eval);
    T_EQ_INT(info.points, 2);
    T_EQ_INT(info.no_value, 1);
    T_EQ_INT(curve_draw(make_run(eval_head, metrics), NULL, &info, err, sizeof(err)), 0);
    T_CHECK(!info.eval);
    T_EQ_INT(info.points, 2);
    uint32_t w, h;
    char p[600];
    snprintf(p, sizeof(p), "%s/curve.png", run);
    T_EQ_INT(png_size(p, &w, &h), 0);
}

static void expect_error(const char *eval, const char *metrics, int want, const char *needle)
{
    char err[1024] = "";
    struct curve_info info;
    int rc = curve_draw(make_run(eval, metrics), NULL, &info, err, sizeof(err));
    T_CHECK_MSG(rc == want, "rc %d, want %d (%s)", rc, want, err);
    T_CHECK_MSG(strstr(err, needle) != NULL, "'%s' not in '%s'", needle, err);
    T_CHECK(!exists(run, "curve.png") && !temp_left(run));
}

static void test_errors(void)
{
    char err[512] = "";
    T_EQ_INT(curve_draw("/nonexistent/run", NULL, NULL, err, sizeof(err)), -ENOENT);
    T_CHECK_MSG(strstr(err, "no eval.csv and no metrics.csv"), "%s", err);
    expect_error(NULL, NULL, -ENOENT, "no eval.csv and no metrics.csv");
    expect_error("", NULL, -ENODATA, "eval.csv: empty");
    expect_error(eval_head, "", -ENODATA, "no rows to plot");
    expect_error("wall_s,env_steps,return\n1,2,3\n", NULL, -EPROTO, "no 'return_mean' column");
    expect_error(NULL, "wall_s,env_steps\n1,2\n", -EPROTO, "no 'return_recent' column");
    char bad[512];
    snprintf(bad, sizeof(bad), "%sx,y,z\n1,2\n,,,,,\n", eval_head);
    expect_error(bad, NULL, -ENODATA, "3 malformed");
    // binary garbage, a huge line, thousands of fields
    char junk[3000];
    for (size_t i = 0; i < sizeof(junk) - 1; i++)
        junk[i] = (char)(1 + (i * 7919) % 254);
    junk[sizeof(junk) - 1] = 0;
    char msg[64];
    int rc = curve_draw(make_run(junk, NULL), NULL, NULL, msg, sizeof(msg));
    T_CHECK(rc == -EPROTO || rc == -ENODATA);
    char *huge = malloc(200000);
    memset(huge, ',', 199998);
    huge[199998] = '\n';
    huge[199999] = 0;
    rc = curve_draw(make_run(huge, NULL), NULL, NULL, msg, sizeof(msg));
    T_CHECK(rc == -EPROTO);
    char *wide = malloc(300000);
    snprintf(wide, 300000, "%s", eval_head);
    for (int i = 0; i < 2000; i++)
        strcat(wide, "1,");
    strcat(wide, "1\n");
    rc = curve_draw(make_run(wide, NULL), NULL, NULL, msg, sizeof(msg));
    T_EQ_INT(rc, -ENODATA);
    free(huge);
    free(wide);
    // a good CSV but an output that cannot be written
    char good[256];
    snprintf(good, sizeof(good), "%s1.0,0,1,14.6,0.2,18.9\n", eval_head);
    rc = curve_draw(make_run(good, NULL), "/nonexistent/dir/c.png", NULL, err, sizeof(err));
    T_EQ_INT(rc, -ENOENT);
    T_CHECK_MSG(strstr(err, "/nonexistent/dir/c.png") != NULL, "%s", err);
}

// the command line: 0 with a PNG, 1 with a message for a bad run, 2 for usage
static void test_cli(void)
{
    const char *b = getenv("BUILD"), *r = getenv("RLDT_ROOT");
    char tool[600], cmd[1400];
    snprintf(tool, sizeof(tool), "%s/%s/rldt", r ? r : ".", b ? b : "build");
    if (access(tool, X_OK) != 0) {
        fprintf(stderr, "  (skipped: %s not built)\n", tool);
        return;
    }
    char good[256];
    snprintf(good, sizeof(good), "%s1.0,0,1,14.6,0.2,18.9\n2.0,10,2,20,1,3\n", eval_head);
    const char *d = make_run(good, NULL);
    snprintf(cmd, sizeof(cmd), "%s plot %s >%s/out.txt 2>&1", tool, d, root);
    T_EQ_INT(WEXITSTATUS(system(cmd)), 0);
    T_CHECK(exists(d, "curve.png"));
    snprintf(cmd, sizeof(cmd), "%s plot %s/none >%s/out.txt 2>&1", tool, root, root);
    T_EQ_INT(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof(cmd), "grep -q 'rldt plot: .*no eval.csv' %s/out.txt", root);
    T_EQ_INT(WEXITSTATUS(system(cmd)), 0);
    snprintf(cmd, sizeof(cmd), "%s plot >/dev/null 2>&1", tool);
    T_EQ_INT(WEXITSTATUS(system(cmd)), 2);
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[800];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

int main(void)
{
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_eval_png);
    T_RUN(test_success_png);
    T_RUN(test_single_point);
    T_RUN(test_bad_rows);
    T_RUN(test_metrics_fallback);
    T_RUN(test_errors);
    T_RUN(test_cli);
    if (!getenv("CURVE_KEEP"))
        rm_tree(root);
    else
        fprintf(stderr, "kept %s\n", root);
    return T_DONE("curve");
}
