/*
 * test_env.c — actor/env: model sanity (sizes, masses, integrator), model lookup, bad input
 * (unknown task, missing / malformed / wrong-sized model, wrong action size, NaN action),
 * observation layout read back from mjData, reset noise, determinism per seed, reward terms
 * against an independent computation, health rules, truncation, non-finite states.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/env.h"
#include "common/rng.h"
#include "tests/envtest.h"
#include "tests/harness.h"

static const char *tasks[] = {"hopper", "walker2d", "halfcheetah"};

// facts from actor/README.md, written out here independently of actor/env.c
struct fact {
    int nq, nv, nu, obs, frame_skip;
    double timestep, healthy, ctrl_w;
    int integrator;
};
static const struct fact facts[] = {
    {6, 6, 3, 11, 4, 0.002, 1.0, 1e-3, mjINT_RK4},
    {9, 9, 6, 17, 4, 0.002, 1.0, 1e-3, mjINT_RK4},
    {9, 9, 6, 17, 5, 0.01, 0.0, 0.1, mjINT_EULER},
};

static void test_model_sanity(void)
{
    for (int k = 0; k < 3; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        const mjModel *m = env_model_mj(em);
        const struct fact *f = &facts[k];
        T_EQ_INT(m->nq, f->nq);
        T_EQ_INT(m->nv, f->nv);
        T_EQ_INT(m->nu, f->nu);
        T_EQ_INT(env_model_obs_dim(em), f->obs);
        T_EQ_INT(env_model_act_dim(em), f->nu);
        T_EQ_INT(env_model_frame_skip(em), f->frame_skip);
        T_NEAR(m->opt.timestep, f->timestep, 1e-12);
        T_NEAR(env_model_dt(em), f->timestep * f->frame_skip, 1e-12);
        T_EQ_INT(m->opt.integrator, f->integrator);
        T_EQ_STR(env_model_task(em), tasks[k]);
        // actuators are ctrl-limited to [-1, 1]
        for (int i = 0; i < m->nu; i++) {
            T_CHECK(m->actuator_ctrllimited[i]);
            T_NEAR(m->actuator_ctrlrange[2 * i], -1, 0);
            T_NEAR(m->actuator_ctrlrange[2 * i + 1], 1, 0);
        }
        env_model_destroy(&em);
        T_CHECK(em == NULL);
    }
}

static void test_model_masses(void)
{
    // old-MuJoCo (D4RL v2) masses: torso 3.534, thigh 3.927, leg 2.714, foot 5.089 (hopper)
    // and 2.945 (walker feet); exact capsule volumes weigh 2.5-7.7% more
    static const double hopper_old[] = {0, 3.53429174, 3.92699082, 2.71433605, 5.0893801};
    static const double walker_old[] = {0,          3.53429174, 3.92699082, 2.71433605,
                                        2.94523929, 3.92699082, 2.71433605, 2.94523929};
    struct env_model *em = envtest_load("hopper");
    if (em) {
        const mjModel *m = env_model_mj(em);
        T_EQ_INT(m->nbody, 5);
        for (int b = 1; b < m->nbody && b < 5; b++) {
            double r = m->body_mass[b] / hopper_old[b];
            T_CHECK_MSG(r > 1.02 && r < 1.08, "hopper body %d mass %g", b, m->body_mass[b]);
        }
        double r = mj_getTotalmass(m) / 15.26501;
        T_CHECK_MSG(r > 1.025 && r < 1.077, "hopper total mass %g", mj_getTotalmass(m));
        env_model_destroy(&em);
    }
    em = envtest_load("walker2d");
    if (em) {
        const mjModel *m = env_model_mj(em);
        T_EQ_INT(m->nbody, 8);
        for (int b = 1; b < m->nbody && b < 8; b++) {
            double r = m->body_mass[b] / walker_old[b];
            T_CHECK_MSG(r > 1.02 && r < 1.08, "walker body %d mass %g", b, m->body_mass[b]);
        }
        env_model_destroy(&em);
    }
    em = envtest_load("halfcheetah");
    if (em) {
        T_NEAR(mj_getTotalmass(env_model_mj(em)), 14.0, 1e-9);
        T_NEAR(env_model_mj(em)->body_mass[1], 6.25020921, 1e-3); // torso, as in Gym
        env_model_destroy(&em);
    }
}

static void test_unknown_task(void)
{
    char err[512] = "";
    T_CHECK(env_model_load("ant", NULL, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "ant") && strstr(err, "hopper") && strstr(err, "walker2d") &&
                    strstr(err, "halfcheetah"),
                "%s", err);
    err[0] = 0;
    T_CHECK(env_model_load(NULL, NULL, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "known") != NULL);
    char path[256];
    T_EQ_INT(env_find_model("humanoid", path, sizeof(path), err, sizeof(err)), -EINVAL);
}

static void test_find_model(void)
{
    char path[4096], err[512];
    // found from the test binary's location (build*/tests/ -> ../../actor/models)
    T_EQ_INT(env_find_model("walker2d", path, sizeof(path), err, sizeof(err)), 0);
    T_CHECK(strstr(path, "walker2d.xml") != NULL);
    T_CHECK(access(path, R_OK) == 0);
    // RLDT_MODELS wins and is the only place looked at
    setenv("RLDT_MODELS", "/nonexistent-rldt-models", 1);
    err[0] = 0;
    T_EQ_INT(env_find_model("hopper", path, sizeof(path), err, sizeof(err)), -ENOENT);
    T_CHECK_MSG(strstr(err, "RLDT_MODELS") != NULL, "%s", err);
    T_CHECK(env_model_load("hopper", NULL, err, sizeof(err)) == NULL);
    unsetenv("RLDT_MODELS");
    // a directory given by RLDT_MODELS is used
    char dir[4096];
    T_EQ_INT(env_find_model("hopper", dir, sizeof(dir), err, sizeof(err)), 0);
    *strrchr(dir, '/') = 0;
    setenv("RLDT_MODELS", dir, 1);
    T_EQ_INT(env_find_model("halfcheetah", path, sizeof(path), err, sizeof(err)), 0);
    T_CHECK(strncmp(path, dir, strlen(dir)) == 0);
    unsetenv("RLDT_MODELS");
    // from another working directory
    char cwd[4096];
    T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    T_CHECK(chdir("/") == 0);
    struct env_model *em = envtest_load("halfcheetah");
    env_model_destroy(&em);
    T_CHECK(chdir(cwd) == 0);
}

static void test_bad_model_files(void)
{
    char err[512] = "";
    T_CHECK(env_model_load("hopper", "/nonexistent/model.xml", err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "/nonexistent/model.xml") != NULL, "%s", err);

    char path[64];
    envtest_write_tmp(path, sizeof(path), "test_env",
                      "<mujoco><worldbody><geom type='sphere'/></mujoco>");
    err[0] = 0;
    T_CHECK(env_model_load("hopper", path, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, path) && strstr(err, "XML"), "%s", err);
    T_CHECK(strchr(err, '\n') == NULL);
    unlink(path);

    envtest_write_tmp(path, sizeof(path), "test_env", "not xml at all");
    err[0] = 0;
    T_CHECK(env_model_load("walker2d", path, err, sizeof(err)) == NULL);
    T_CHECK(err[0] != 0);
    unlink(path);

    // well-formed XML that MuJoCo's compiler rejects (negative size)
    envtest_write_tmp(path, sizeof(path), "test_env",
                      "<mujoco><worldbody><body><joint type='hinge'/>"
                      "<geom type='capsule' size='-1 1'/></body></worldbody></mujoco>");
    err[0] = 0;
    T_CHECK(env_model_load("halfcheetah", path, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "size") != NULL, "%s", err);
    unlink(path);

    // a valid model without x/z/pitch joints or actuators
    envtest_write_tmp(path, sizeof(path), "test_env",
                      "<mujoco><worldbody><body><joint type='hinge'/><geom size='0.1'/></body>"
                      "</worldbody></mujoco>");
    err[0] = 0;
    T_CHECK(env_model_load("hopper", path, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "nq") != NULL, "%s", err);
    unlink(path);
}

// a tiny planar model: the override path for tests of other modules
static const char *tiny_mjcf =
    "<mujoco><option timestep='0.01'/><worldbody><geom type='plane' size='5 5 .1'/>"
    "<body pos='0 0 1'><joint name='x' type='slide' axis='1 0 0'/>"
    "<joint name='z' type='slide' axis='0 0 1'/><joint name='r' type='hinge' axis='0 1 0'/>"
    "<geom type='sphere' size='0.1'/></body></worldbody>"
    "<actuator><motor joint='x' ctrllimited='true' ctrlrange='-1 1'/></actuator></mujoco>";

static void test_tiny_override(void)
{
    char path[64], err[512] = "";
    envtest_write_tmp(path, sizeof(path), "test_env", tiny_mjcf);
    struct env_model *em = env_model_load("halfcheetah", path, err, sizeof(err));
    T_CHECK_MSG(em != NULL, "%s", err);
    if (em) {
        T_EQ_INT(env_model_obs_dim(em), 2 + 3);
        T_EQ_INT(env_model_act_dim(em), 1);
        T_EQ_STR(env_model_path(em), path);
        struct env *e = env_new(em, 1, 0, 10);
        float obs[5], a[1] = {1.0f};
        struct env_step_info info;
        T_EQ_INT(env_reset(e, obs), 0);
        int n = 0;
        while (env_step(e, a, 1, obs, &info) == 0)
            n++;
        T_EQ_INT(n, 10);
        T_CHECK(info.truncated && !info.terminated);
        T_CHECK(info.x_velocity > 0); // pushed along +x
        env_destroy(&e);
        env_model_destroy(&em);
    }
    unlink(path);
}

// obs must be qpos[1:] then qvel, clipped to +-10 for hopper/walker2d only
static void check_obs_layout(struct env *e, const float *obs, int k)
{
    const mjData *d = env_data(e);
    const struct fact *f = &facts[k];
    for (int i = 1; i < f->nq; i++)
        T_NEAR(obs[i - 1], (float)d->qpos[i], 0);
    for (int i = 0; i < f->nv; i++) {
        double v = d->qvel[i];
        if (k < 2)
            v = fmin(10.0, fmax(-10.0, v));
        T_NEAR(obs[f->nq - 1 + i], (float)v, 0);
    }
}

static void test_obs_layout(void)
{
    for (int k = 0; k < 3; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        struct env *e = env_new(em, 7, 3, 1000);
        float obs[17], a[6] = {0.3f, -0.5f, 0.8f, -0.2f, 0.1f, 0.6f};
        env_reset(e, obs);
        check_obs_layout(e, obs, k);
        for (int t = 0; t < 5; t++)
            env_step(e, a, facts[k].nu, obs, NULL);
        check_obs_layout(e, obs, k);
        // large velocities: clipped for hopper/walker2d, passed through for halfcheetah
        mjData *d = env_data(e);
        d->qvel[3] = 55.0;
        d->qvel[4] = -30.0;
        env_observe(e, obs);
        check_obs_layout(e, obs, k);
        T_NEAR(obs[facts[k].nq - 1 + 3], k < 2 ? 10.0 : 55.0, 0);
        T_NEAR(obs[facts[k].nq - 1 + 4], k < 2 ? -10.0 : -30.0, 0);
        env_destroy(&e);
        env_model_destroy(&em);
    }
}

static void test_reset_noise(void)
{
    for (int k = 0; k < 3; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        const mjModel *m = env_model_mj(em);
        struct env *e = env_new(em, 11, 0, 1000);
        double lim = k < 2 ? 0.005 : 0.1, maxdev = 0, sumsq = 0;
        long n = 0;
        for (int rep = 0; rep < 100; rep++) {
            env_reset(e, NULL);
            const mjData *d = env_data(e);
            for (int i = 0; i < m->nq; i++)
                maxdev = fmax(maxdev, fabs(d->qpos[i] - m->qpos0[i]));
            for (int i = 0; i < m->nv; i++, n++) {
                sumsq += d->qvel[i] * d->qvel[i];
                if (k < 2)
                    maxdev = fmax(maxdev, fabs(d->qvel[i]));
            }
        }
        // uniform noise fills most of its range and never leaves it
        T_CHECK_MSG(maxdev <= lim && maxdev > 0.9 * lim, "%s: max deviation %g", tasks[k], maxdev);
        double rms = sqrt(sumsq / n);
        double want = k < 2 ? lim / sqrt(3.0) : 0.1; // uniform rms, or the 0.1 N(0,1) of cheetah
        T_CHECK_MSG(fabs(rms - want) < 0.1 * want, "%s: qvel rms %g vs %g", tasks[k], rms, want);
        env_destroy(&e);
        env_model_destroy(&em);
    }
}

// 300 steps of seeded random actions with resets: obs traces (300 x 17) per seed and stream
static void test_determinism(void)
{
    static float a[300 * 17], b[300 * 17], c[300 * 17], d[300 * 17];
    for (int k = 0; k < 3; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        memset(a, 0, sizeof(a));
        memset(b, 0, sizeof(b));
        envtest_trace(em, 5, 2, 1000, 300, 17, a);
        envtest_trace(em, 5, 2, 1000, 300, 17, b);
        envtest_trace(em, 6, 2, 1000, 300, 17, c);
        envtest_trace(em, 5, 3, 1000, 300, 17, d);
        T_CHECK_MSG(memcmp(a, b, sizeof(a)) == 0, "%s: same seed, different trajectory", tasks[k]);
        T_CHECK(memcmp(a, c, sizeof(a)) != 0);
        T_CHECK(memcmp(a, d, sizeof(a)) != 0);
        // the first obs already differs (different reset noise)
        T_CHECK(memcmp(a, c, 17 * sizeof(float)) != 0);
        env_model_destroy(&em);
    }
}

static void test_reward_terms(void)
{
    for (int k = 0; k < 3; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        const struct fact *f = &facts[k];
        struct env *e = env_new(em, 3, 1, 1000);
        struct rng r;
        rng_init(&r, 4, 0);
        env_reset(e, NULL);
        double ret = 0;
        for (int t = 0; t < 15; t++) {
            float a[6];
            double sq = 0;
            for (int i = 0; i < f->nu; i++) {
                a[i] = (float)rng_range(&r, -1.3, 1.3); // beyond the ctrl range too
                sq += (double)a[i] * a[i];
            }
            double x0 = env_data(e)->qpos[0];
            struct env_step_info info;
            T_EQ_INT(env_step(e, a, f->nu, NULL, &info), 0);
            double vel = (env_data(e)->qpos[0] - x0) / (f->timestep * f->frame_skip);
            T_NEAR(info.x_velocity, vel, 1e-9);
            T_NEAR(info.forward_reward, vel, 1e-9);
            T_NEAR(info.ctrl_cost, f->ctrl_w * sq, 1e-9);
            T_NEAR(info.healthy_reward, f->healthy, 0);
            T_NEAR(info.reward, vel + f->healthy - f->ctrl_w * sq, 1e-9);
            ret += info.reward;
            T_NEAR(info.ep_return, ret, 1e-9);
            T_EQ_INT(info.length, t + 1);
            // MuJoCo clamps ctrl: the joint torque is the clamped action times the gear
            const mjData *d = env_data(e);
            const mjModel *m = env_model_mj(em);
            double clamped = fmin(1.0, fmax(-1.0, a[0]));
            T_NEAR(d->actuator_force[0], clamped, 1e-6);
            T_NEAR(d->qfrc_actuator[3], clamped * m->actuator_gear[0], 1e-4);
            if (info.terminated)
                break;
        }
        env_destroy(&e);
        env_model_destroy(&em);
    }
}

// healthy per Gym-v4, recomputed here
static bool healthy_ref(int k, const mjData *d, int nq, int nv)
{
    double z = d->qpos[1], p = d->qpos[2];
    if (k == 0) {
        for (int i = 2; i < nq; i++)
            if (!(fabs(d->qpos[i]) < 100))
                return false;
        for (int i = 0; i < nv; i++)
            if (!(fabs(d->qvel[i]) < 100))
                return false;
        return z > 0.7 && fabs(p) < 0.2;
    }
    if (k == 1)
        return z > 0.8 && z < 2.0 && p > -1 && p < 1;
    return true;
}

static void test_zero_action_falls(void)
{
    for (int k = 0; k < 2; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        struct env *e = env_new(em, 1, 0, 1000);
        float a[6] = {0}, obs[17];
        struct env_step_info info = {0};
        env_reset(e, obs);
        int t = 0;
        while (t < 1000 && env_step(e, a, facts[k].nu, obs, &info) == 0) {
            t++;
            bool h = healthy_ref(k, env_data(e), facts[k].nq, facts[k].nv);
            T_CHECK_MSG(info.terminated == !h, "%s step %d", tasks[k], t);
            T_CHECK(!info.truncated);
            // the bonus is paid on every step, including the terminating one
            T_NEAR(info.healthy_reward, 1.0, 0);
        }
        T_CHECK_MSG(info.terminated && t < 300, "%s: zero action ran %d steps", tasks[k], t);
        T_CHECK(env_done(e));
        // stepping a finished episode is refused until reset
        T_EQ_INT(env_step(e, a, facts[k].nu, obs, &info), -EINVAL);
        T_EQ_INT(env_reset(e, obs), 0);
        T_EQ_INT(env_step(e, a, facts[k].nu, obs, &info), 0);
        env_destroy(&e);
        env_model_destroy(&em);
    }
}

static void test_cheetah_truncates(void)
{
    struct env_model *em = envtest_load("halfcheetah");
    if (!em)
        return;
    struct env *e = env_new(em, 1, 0, 1000);
    float a[6] = {0};
    struct env_step_info info = {0};
    env_reset(e, NULL);
    int t = 0, early = 0;
    while (env_step(e, a, 6, NULL, &info) == 0) {
        t++;
        early += info.terminated || (info.truncated && t < 1000);
    }
    T_EQ_INT(t, 1000);
    T_EQ_INT(early, 0);
    T_CHECK(info.truncated);
    T_CHECK(!info.terminated);
    T_EQ_INT(info.length, 1000);
    T_NEAR(info.healthy_reward, 0, 0);
    env_destroy(&e);
    // a shorter limit
    e = env_new(em, 1, 0, 37);
    env_reset(e, NULL);
    for (t = 0; env_step(e, a, 6, NULL, &info) == 0;)
        t++;
    T_EQ_INT(t, 37);
    T_CHECK(info.truncated && !info.terminated);
    env_destroy(&e);
    env_model_destroy(&em);
}

static void test_bad_actions(void)
{
    struct env_model *em = envtest_load("hopper");
    if (!em)
        return;
    struct env *e = env_new(em, 1, 0, 1000);
    float obs[11], a[6] = {0.1f, 0.2f, 0.3f};
    struct env_step_info info;
    env_reset(e, obs);
    double q[6];
    memcpy(q, env_data(e)->qpos, sizeof(q));
    T_EQ_INT(env_step(e, a, 2, obs, &info), -EINVAL);
    T_EQ_INT(env_step(e, a, 6, obs, &info), -EINVAL);
    a[1] = NAN;
    T_EQ_INT(env_step(e, a, 3, obs, &info), -EINVAL);
    a[1] = INFINITY;
    T_EQ_INT(env_step(e, a, 3, obs, &info), -EINVAL);
    // nothing happened
    T_CHECK(memcmp(q, env_data(e)->qpos, sizeof(q)) == 0);
    a[1] = 0.2f;
    T_EQ_INT(env_step(e, a, 3, obs, &info), 0);
    T_EQ_INT(info.length, 1);
    env_destroy(&e);
    env_model_destroy(&em);
}

static void test_nonfinite_state(void)
{
    for (int k = 0; k < 3; k++) {
        struct env_model *em = envtest_load(tasks[k]);
        if (!em)
            continue;
        struct env *e = env_new(em, 1, 0, 1000);
        float a[6] = {0}, obs[17];
        struct env_step_info info;
        env_reset(e, obs);
        env_step(e, a, facts[k].nu, obs, &info);
        T_EQ_INT(env_nonfinite_count(e), 0);
        env_data(e)->qvel[2] = NAN; // as if the physics blew up
        T_EQ_INT(env_step(e, a, facts[k].nu, obs, &info), 0);
        T_CHECK(info.terminated && info.nonfinite);
        T_CHECK(isfinite(info.reward));
        T_EQ_INT(env_nonfinite_count(e), 1);
        for (int i = 0; i < facts[k].obs; i++)
            T_CHECK(isfinite(obs[i]));
        // huge but finite values are caught the same way (MuJoCo resets them itself)
        env_reset(e, obs);
        env_data(e)->qpos[3] = 1e300;
        T_EQ_INT(env_step(e, a, facts[k].nu, obs, &info), 0);
        T_CHECK(info.terminated && info.nonfinite);
        T_EQ_INT(env_nonfinite_count(e), 2);
        env_destroy(&e);
        env_model_destroy(&em);
    }
    T_CHECK(env_mj_warning_count() >= 1);
}

// a MuJoCo error raised inside mj_step (stack overflow once 30 spheres touch the floor) is
// caught: the step terminates as non-finite, nothing crashes, the env stays usable
static void test_mujoco_error_in_step(void)
{
    char xml[4096], path[64], err[512] = "";
    int n = snprintf(xml, sizeof(xml),
                     "<mujoco><size nstack='150'/><option timestep='0.01'/><worldbody>"
                     "<geom type='plane' size='5 5 .1'/><body pos='0 0 0.3'>"
                     "<joint name='x' type='slide' axis='1 0 0'/>"
                     "<joint type='slide' axis='0 0 1'/><joint type='hinge' axis='0 1 0'/>");
    for (int i = 0; i < 30; i++)
        n += snprintf(xml + n, sizeof(xml) - n, "<geom size='0.05' pos='%.1f 0 0'/>", 0.1 * i);
    snprintf(xml + n, sizeof(xml) - n,
             "</body></worldbody><actuator><motor joint='x' ctrllimited='true' "
             "ctrlrange='-1 1'/></actuator></mujoco>");
    envtest_write_tmp(path, sizeof(path), "test_env", xml);
    struct env_model *em = env_model_load("halfcheetah", path, err, sizeof(err));
    T_CHECK_MSG(em != NULL, "%s", err);
    if (em) {
        struct env *e = env_new(em, 1, 0, 1000);
        float a[1] = {0}, obs[5];
        struct env_step_info info = {0};
        T_EQ_INT(env_reset(e, obs), 0);
        int t = 0;
        while (t < 200 && env_step(e, a, 1, obs, &info) == 0 && !info.terminated)
            t++;
        T_CHECK_MSG(info.terminated && info.nonfinite, "no MuJoCo error after %d steps", t);
        T_EQ_INT(env_nonfinite_count(e), 1);
        for (int i = 0; i < 5; i++)
            T_CHECK(isfinite(obs[i]));
        env_reset(e, obs); // may fail again (-EFAULT), but returns
        T_CHECK(!env_done(e));
        env_destroy(&e);
        env_model_destroy(&em);
    }
    unlink(path);
}

int main(void)
{
    T_RUN(test_model_sanity);
    T_RUN(test_model_masses);
    T_RUN(test_unknown_task);
    T_RUN(test_find_model);
    T_RUN(test_bad_model_files);
    T_RUN(test_tiny_override);
    T_RUN(test_obs_layout);
    T_RUN(test_reset_noise);
    T_RUN(test_determinism);
    T_RUN(test_reward_terms);
    T_RUN(test_zero_action_falls);
    T_RUN(test_cheetah_truncates);
    T_RUN(test_bad_actions);
    T_RUN(test_nonfinite_state);
    T_RUN(test_mujoco_error_in_step);
    return T_DONE("env");
}
