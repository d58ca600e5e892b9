/*
 * test_resume_trim.c — --resume never trains on replay data newer than the checkpoint it
 * resumes. A learner and an actor (real processes, SAC with tiny networks on Hopper, chunk 1)
 * run until the replay has been saved well after the first checkpoint; both are killed with -9,
 * every checkpoint but the first is deleted, and the learner is resumed alone: the replay file
 * is newer than that checkpoint, so the rows it holds beyond the checkpoint's must be dropped
 * (the replay size comes back to the checkpoint's env steps, not the file's). Also: a stale
 * temporary checkpoint file planted during the run is removed by the next rotation.
 */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/harness.h"
#include "tests/spawn.h"

#define AHEAD 100 /* chunk steps the saved replay is at least ahead of the first checkpoint */

static char bin[512], dir[] = "/tmp/rldt-trim-XXXXXX";
static int base;
static char stats_port[16];

static pid_t start(const char *prog, const char *log, const char *extra)
{
    char path[600], ports[4][64], rd[300], logp[400];
    snprintf(path, sizeof(path), "%s/%s", bin, prog);
    snprintf(rd, sizeof(rd), "--run-dir=%s", dir);
    snprintf(logp, sizeof(logp), "%s/%s", dir, log);
    char *argv[SPAWN_MAX_ARGS];
    const char *const more[] = {"--replay-save-secs=1", "--keep-checkpoints=1000",
                                "--ingest-slack=300", extra};
    spawn_tiny_sac(argv, path, ports, base, rd, more, 4);
    return spawn_logged(path, argv, logp);
}

// the number after `key` on the first (first=true) or last line of log holding `what`
// (-1: no such line)
static double log_number(const char *log, const char *what, const char *key, bool first)
{
    char path[600], line[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    FILE *f = fopen(path, "r");
    double v = -1;
    while (f && fgets(line, sizeof(line), f)) {
        const char *k = strstr(line, what) ? strstr(line, key) : NULL;
        if (k)
            v = atof(k + strlen(key));
        if (k && first)
            break;
    }
    if (f)
        fclose(f);
    return v;
}

// delete every checkpoint in dir/checkpoints but the oldest (names sort by update count);
// the number deleted
static int keep_oldest_checkpoint(void)
{
    char cdir[400], path[700];
    snprintf(cdir, sizeof(cdir), "%s/checkpoints", dir);
    struct dirent **names = NULL;
    int n = scandir(cdir, &names, NULL, alphasort), gone = 0;
    bool kept = false;
    for (int i = 0; i < n; i++) {
        if (!strncmp(names[i]->d_name, "ckpt-", 5) && !strstr(names[i]->d_name, ".tmp.")) {
            snprintf(path, sizeof(path), "%s/%s", cdir, names[i]->d_name);
            if (kept)
                gone += unlink(path) == 0;
            kept = true;
        }
        free(names[i]);
    }
    free(names);
    return gone;
}

static void test_resume_trims_newer_replay(void)
{
    pid_t learner = start("rldt-learner", "learner.log", NULL);
    pid_t actor = start("rldt-actor", "actor.log", "--actor-name=a0");
    T_CHECK(learner > 0 && actor > 0);
    // run until a replay save is AHEAD chunk steps past the first checkpoint
    double first = -1, saved = -1, until = rl_now() + 120;
    while (rl_now() < until && (first < 0 || saved < first + 2 * AHEAD)) {
        rl_sleep(0.2);
        first = log_number("learner.log", "info: checkpoint ", "(env_steps=", true);
        saved = log_number("learner.log", "replay saved: ", "replay saved: ", false);
    }
    // a leftover of a killed write, planted now, goes with the next checkpoint's rotation
    char stale[500];
    snprintf(stale, sizeof(stale), "%s/checkpoints/ckpt-00000000000001.rldt.tmp.4242", dir);
    FILE *f = fopen(stale, "w");
    T_CHECK(f != NULL);
    if (f)
        fclose(f);
    until = rl_now() + 30;
    while (rl_now() < until && access(stale, F_OK) == 0)
        rl_sleep(0.1);
    T_CHECK_MSG(access(stale, F_OK) != 0, "%s is still there", stale);
    pid_t all[] = {learner, actor};
    spawn_kill_all(all, 2);
    printf("first checkpoint at %.0f env steps, replay saved with %.0f chunk steps\n", first,
           saved);
    T_CHECK_MSG(first >= 0 && saved >= first + 2 * AHEAD, "first %.0f, saved %.0f", first, saved);
    int gone = keep_oldest_checkpoint();

    learner = start("rldt-learner", "learner2.log", "--resume");
    json_t *d = NULL;
    until = rl_now() + 20;
    while (rl_now() < until && !(d = spawn_stats(stats_port)))
        rl_sleep(0.1);
    T_CHECK(d != NULL);
    double steps = spawn_num(d, "env_steps");
    double size = spawn_num(json_object_get(d, "replay"), "size");
    json_decref(d);
    double restored = log_number("learner2.log", "replay restored: ", "replay restored: ", true);
    double dropped = log_number("learner2.log", "newer than the checkpoint", "resume: ", true);
    printf("%d later checkpoints deleted; resumed at %.0f env steps: replay file %.0f chunk "
           "steps, %.0f dropped, %.0f kept\n",
           gone, steps, restored, dropped, size);
    T_NEAR(steps, first, 0);
    // the file is ahead of the checkpoint (the logged count is read just after a save, so the
    // file may hold a little less, or a later save may have landed before the kill)
    T_CHECK_MSG(restored >= steps + AHEAD, "replay file %.0f, checkpoint %.0f", restored, steps);
    // chunk 1: one chunk step per env step; the checkpoint reads the replay's insert count just
    // after its counters, so up to a segment per env may have come in between
    T_CHECK_MSG(size >= steps && size <= steps + 2 * 16, "replay %.0f after resuming at %.0f", size,
                steps);
    T_NEAR(dropped, restored - size, 0);
    kill(learner, SIGKILL);
    waitpid(learner, NULL, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    base = spawn_free_ports(4);
    snprintf(stats_port, sizeof(stats_port), "%d", base + 3);
    T_RUN(test_resume_trims_newer_replay);
    int rc = T_DONE("resume_trim");
    if (rc == 0) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            printf("could not remove %s\n", dir);
    }
    return rc;
}
