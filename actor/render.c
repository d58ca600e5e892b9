/*
 * render.c — EGL surfaceless context + MuJoCo offscreen rendering (see render.h). The EGL
 * display is shared by the process: initialised by the first render_new, terminated when the
 * last renderer goes (a mutex guards the count).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>

#include "actor/env.h"
#include "actor/render.h"

/* Mesa's llvmpipe allocates from the code it compiles; LeakSanitizer can neither unwind
 * through that code nor suppress it by library, and what it keeps is Mesa's to free. In
 * sanitizer builds (make san) the EGL and OpenGL calls run with leak tracking off (MuJoCo's
 * GL context included); our own allocations stay outside them. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define MESA_DRAW_BEGIN() __lsan_disable()
#define MESA_DRAW_END() __lsan_enable()
#else
#define MESA_DRAW_BEGIN() ((void)0)
#define MESA_DRAW_END() ((void)0)
#endif

struct render {
    const mjModel *m;
    int w, h;
    EGLContext ctx;
    mjvScene scn;
    mjvOption opt;
    mjrContext con;
    uint8_t *flip; /* w * h * 3: the bottom-up frame OpenGL reads */
};

static pthread_mutex_t display_lock = PTHREAD_MUTEX_INITIALIZER;
static EGLDisplay display = EGL_NO_DISPLAY;
static int display_users;

// the process's surfaceless display, initialised on first use; 0 or -ENODEV
static int display_get(char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&display_lock);
    if (display_users == 0) {
        PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
            (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
        display = get_display
                      ? get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL)
                      : EGL_NO_DISPLAY;
        EGLint major, minor;
        if (display == EGL_NO_DISPLAY || !eglInitialize(display, &major, &minor)) {
            snprintf(err, errlen,
                     "EGL: no surfaceless display (%s; needs Mesa's EGL: libegl-mesa0, "
                     "libgl1-mesa-dri)",
                     get_display ? "eglInitialize failed" : "no eglGetPlatformDisplayEXT");
            display = EGL_NO_DISPLAY;
            rc = -ENODEV;
        }
    }
    if (rc == 0)
        display_users++;
    pthread_mutex_unlock(&display_lock);
    return rc;
}

static void display_put(void)
{
    pthread_mutex_lock(&display_lock);
    if (display_users > 0 && --display_users == 0) {
        eglTerminate(display);
        display = EGL_NO_DISPLAY;
    }
    pthread_mutex_unlock(&display_lock);
}

// an OpenGL context with no surface, current on this thread; EGL_NO_CONTEXT on failure
static EGLContext context_make(char *err, size_t errlen)
{
    const char *ext = eglQueryString(display, EGL_EXTENSIONS);
    if (!ext || !strstr(ext, "EGL_KHR_surfaceless_context")) {
        snprintf(err, errlen, "EGL: no EGL_KHR_surfaceless_context");
        return EGL_NO_CONTEXT;
    }
    static const EGLint attrs[] = {EGL_RED_SIZE,     8, EGL_GREEN_SIZE,      8,
                                   EGL_BLUE_SIZE,    8, EGL_DEPTH_SIZE,      24,
                                   EGL_SURFACE_TYPE, 0, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                   EGL_NONE};
    EGLConfig cfg;
    EGLint n = 0;
    if (!eglChooseConfig(display, attrs, &cfg, 1, &n) || n < 1) {
        snprintf(err, errlen, "EGL: no RGB8 + depth OpenGL config");
        return EGL_NO_CONTEXT;
    }
    if (!eglBindAPI(EGL_OPENGL_API)) {
        snprintf(err, errlen, "EGL: desktop OpenGL unavailable");
        return EGL_NO_CONTEXT;
    }
    EGLContext ctx = eglCreateContext(display, cfg, EGL_NO_CONTEXT, NULL);
    if (ctx == EGL_NO_CONTEXT) {
        snprintf(err, errlen, "EGL: eglCreateContext failed (0x%x)", (unsigned)eglGetError());
        return EGL_NO_CONTEXT;
    }
    if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
        snprintf(err, errlen, "EGL: eglMakeCurrent failed (0x%x)", (unsigned)eglGetError());
        eglDestroyContext(display, ctx);
        return EGL_NO_CONTEXT;
    }
    return ctx;
}

// MuJoCo's scene and render context for r->m with an offscreen buffer of at least w x h
static int mujoco_make(struct render *r)
{
    /* mjr_makeContext sizes the offscreen buffer from the model's visual settings: hand it a
     * shallow copy with those raised (it only reads the model) rather than edit the shared one */
    mjModel *sized = malloc(sizeof(*sized));
    if (!sized)
        return -ENOMEM;
    *sized = *r->m;
    if (sized->vis.global.offwidth < r->w)
        sized->vis.global.offwidth = r->w;
    if (sized->vis.global.offheight < r->h)
        sized->vis.global.offheight = r->h;
    mjv_defaultScene(&r->scn);
    mjv_defaultOption(&r->opt);
    for (int i = 0; i < mjNGROUP; i++)
        r->opt.sitegroup[i] = 0; /* sites are markers for the task code, not part of the scene */
    mjr_defaultContext(&r->con);
    mjv_makeScene(r->m, &r->scn, 2000);
    MESA_DRAW_BEGIN();
    mjr_makeContext(sized, &r->con, mjFONTSCALE_100);
    MESA_DRAW_END();
    free(sized);
    mjr_setBuffer(mjFB_OFFSCREEN, &r->con);
    if (r->con.currentBuffer != mjFB_OFFSCREEN || r->con.offWidth < r->w || r->con.offHeight < r->h)
        return -EIO;
    return 0;
}

struct render *render_new(const mjModel *m, int width, int height, char *err, size_t errlen)
{
    if (width < 1 || height < 1 || width > RENDER_MAX_SIDE || height > RENDER_MAX_SIDE) {
        snprintf(err, errlen, "frame size %dx%d: each side must be 1..%d", width, height,
                 RENDER_MAX_SIDE);
        return NULL;
    }
    int rc;
    struct render *r = calloc(1, sizeof(*r));
    if (!r || !(r->flip = malloc((size_t)width * height * 3))) {
        snprintf(err, errlen, "out of memory");
        goto err_free;
    }
    r->m = m;
    r->w = width;
    r->h = height;
    MESA_DRAW_BEGIN();
    rc = display_get(err, errlen);
    r->ctx = rc < 0 ? EGL_NO_CONTEXT : context_make(err, errlen);
    MESA_DRAW_END();
    if (rc < 0)
        goto err_free;
    if (r->ctx == EGL_NO_CONTEXT)
        goto err_display;
    rc = mujoco_make(r);
    if (rc < 0) {
        snprintf(err, errlen, "MuJoCo: no %dx%d offscreen buffer (%s)", width, height,
                 rc == -ENOMEM ? "out of memory" : "framebuffer incomplete");
        mjr_freeContext(&r->con);
        mjv_freeScene(&r->scn);
        eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        eglDestroyContext(display, r->ctx);
        goto err_display;
    }
    return r;
err_display:
    display_put();
err_free:
    if (r)
        free(r->flip);
    free(r);
    return NULL;
}

void render_destroy(struct render **pr)
{
    if (!pr || !*pr)
        return;
    struct render *r = *pr;
    MESA_DRAW_BEGIN();
    eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->ctx);
    mjr_freeContext(&r->con);
    mjv_freeScene(&r->scn);
    eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext(display, r->ctx);
    display_put();
    MESA_DRAW_END();
    free(r->flip);
    free(r);
    *pr = NULL;
}

int render_width(const struct render *r)
{
    return r->w;
}

int render_height(const struct render *r)
{
    return r->h;
}

void render_set_effects(struct render *r, bool shadows, bool reflections)
{
    r->scn.flags[mjRND_SHADOW] = shadows;
    r->scn.flags[mjRND_REFLECTION] = reflections;
}

int render_camera_id(const mjModel *m, const char *camera, char *err, size_t errlen)
{
    if (!camera || !camera[0] || !strcmp(camera, "free"))
        return -1;
    if (!strcmp(camera, "default"))
        return m->ncam > 0 ? 0 : -1;
    int id = mj_name2id(m, mjOBJ_CAMERA, camera);
    if (id >= 0)
        return id;
    int n = snprintf(err, errlen, "no camera '%s'; this model has: free", camera);
    for (int i = 0; i < m->ncam && n > 0 && (size_t)n < errlen; i++) {
        const char *name = m->names + m->name_camadr[i];
        n += snprintf(err + n, errlen - (size_t)n, ", %s", name[0] ? name : "(unnamed)");
    }
    return -ENOENT;
}

int render_frame(struct render *r, mjData *d, int cam, uint8_t *rgb)
{
    if (cam < -1 || cam >= r->m->ncam)
        return -EINVAL;
    if (eglGetCurrentContext() != r->ctx &&
        !eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->ctx))
        return -EIO;
    mjvCamera c;
    if (cam >= 0) {
        mjv_defaultCamera(&c);
        c.type = mjCAMERA_FIXED;
        c.fixedcamid = cam;
    } else {
        mjv_defaultFreeCamera(r->m, &c);
    }
    mjrRect vp = {0, 0, r->w, r->h};
    mjv_updateScene(r->m, d, &r->opt, NULL, &c, mjCAT_ALL, &r->scn);
    MESA_DRAW_BEGIN();
    mjr_render(vp, &r->scn, &r->con);
    mjr_readPixels(r->flip, NULL, vp, &r->con);
    MESA_DRAW_END();
    /* OpenGL's row 0 is the bottom one */
    size_t row = (size_t)r->w * 3;
    for (int y = 0; y < r->h; y++)
        memcpy(rgb + (size_t)y * row, r->flip + (size_t)(r->h - 1 - y) * row, row);
    return 0;
}

int render_env(struct render *r, struct env *e, int cam, uint8_t *rgb)
{
    return render_frame(r, env_data(e), cam, rgb);
}
