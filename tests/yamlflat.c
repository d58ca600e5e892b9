/*
 * yamlflat.c — test helper for the deployment checks: reads a YAML file with libyaml and
 * prints one line per scalar, `DOC<TAB>PATH<TAB>VALUE` (DOC counts documents from 0, PATH is
 * like `.spec.template.spec.containers[0].command[2]`, keys that are not plain words are
 * quoted: `.metadata.labels["app.kubernetes.io/name"]`; empty collections print `{}` or `[]`;
 * tabs, newlines and backslashes in values are escaped), so shell and awk can check
 * Kubernetes manifests and docker-compose output. `-g DOC PATH` prints one value raw instead.
 * Parse errors, duplicate keys, aliases and non-scalar keys are errors (exit 1, one line).
 * Built by the integ_*.sh scripts themselves: cc yamlflat.c -lyaml.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define FLAT_DEPTH 64
#define FLAT_PATH 4096
#define FLAT_KEYS 256

struct frame {
    bool map;      /* mapping (else sequence) */
    bool want_key; /* mapping: next scalar is a key */
    long index;    /* sequence: index of the next item */
    size_t base;   /* path length of the collection itself */
    size_t count;  /* items seen */
    char *keys[FLAT_KEYS];
    size_t nkeys;
};

struct flat {
    const char *file;
    long doc;
    char path[FLAT_PATH];
    size_t len;
    struct frame st[FLAT_DEPTH];
    int depth;
    /* -g mode: print only this value */
    long get_doc;
    const char *get_path;
    bool found;
    char err[512];
};

static void print_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            fputs("\\n", stdout);
        else if (s[i] == '\t')
            fputs("\\t", stdout);
        else if (s[i] == '\\')
            fputs("\\\\", stdout);
        else
            putchar(s[i]);
    }
}

static void emit(struct flat *f, const char *value, size_t n)
{
    if (f->get_path) {
        if (f->doc == f->get_doc && !strcmp(f->path, f->get_path)) {
            fwrite(value, 1, n, stdout);
            f->found = true;
        }
        return;
    }
    printf("%ld\t%s\t", f->doc, f->path);
    print_escaped(value, n);
    putchar('\n');
}

static bool plain_word(const char *k)
{
    if (!*k)
        return false;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

// append a path component for the key or index of the next item in the top frame
static int push_component(struct flat *f, const char *key)
{
    struct frame *t = &f->st[f->depth - 1];
    size_t room = sizeof(f->path) - t->base;
    int n;
    if (t->map && plain_word(key)) {
        n = snprintf(f->path + t->base, room, ".%s", key);
    } else if (t->map) {
        char q[1024];
        size_t j = 0;
        for (const char *p = key; *p && j + 2 < sizeof(q); p++) {
            if (*p == '"' || *p == '\\')
                q[j++] = '\\';
            q[j++] = *p;
        }
        q[j] = 0;
        n = snprintf(f->path + t->base, room, "[\"%s\"]", q);
    } else {
        n = snprintf(f->path + t->base, room, "[%ld]", t->index++);
    }
    if (n < 0 || (size_t)n >= room) {
        snprintf(f->err, sizeof(f->err), "path too long at %.200s", f->path);
        return -1;
    }
    f->len = t->base + (size_t)n;
    return 0;
}

static int map_key(struct flat *f, const char *key)
{
    struct frame *t = &f->st[f->depth - 1];
    f->path[t->base] = 0;
    for (size_t i = 0; i < t->nkeys; i++)
        if (!strcmp(t->keys[i], key)) {
            snprintf(f->err, sizeof(f->err), "duplicate key '%.100s' in %.300s", key,
                     t->base ? f->path : "the document");
            return -1;
        }
    if (t->nkeys == FLAT_KEYS) {
        snprintf(f->err, sizeof(f->err), "more than %d keys in one mapping", FLAT_KEYS);
        return -1;
    }
    t->keys[t->nkeys] = strdup(key);
    if (!t->keys[t->nkeys]) {
        snprintf(f->err, sizeof(f->err), "out of memory");
        return -1;
    }
    t->nkeys++;
    t->want_key = false;
    return push_component(f, key);
}

// a value (scalar or collection) is about to start in the top frame: set its path
static int begin_item(struct flat *f)
{
    if (f->depth == 0) {
        f->len = 0;
        f->path[0] = 0;
        return 0;
    }
    struct frame *t = &f->st[f->depth - 1];
    t->count++;
    if (t->map) {
        t->want_key = true; /* after this value, a key comes */
        return 0;           /* path already holds the key */
    }
    f->path[t->base] = 0;
    return push_component(f, NULL);
}

static int open_collection(struct flat *f, bool map)
{
    if (begin_item(f) < 0)
        return -1;
    if (f->depth == FLAT_DEPTH) {
        snprintf(f->err, sizeof(f->err), "nesting deeper than %d", FLAT_DEPTH);
        return -1;
    }
    struct frame *t = &f->st[f->depth++];
    memset(t, 0, sizeof(*t));
    t->map = map;
    t->want_key = map;
    t->base = f->len;
    return 0;
}

static void close_collection(struct flat *f)
{
    struct frame *t = &f->st[--f->depth];
    f->path[t->base] = 0;
    f->len = t->base;
    if (t->count == 0)
        emit(f, t->map ? "{}" : "[]", 2);
    for (size_t i = 0; i < t->nkeys; i++)
        free(t->keys[i]);
    t->nkeys = 0;
}

static int on_scalar(struct flat *f, const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (f->depth > 0 && f->st[f->depth - 1].map && f->st[f->depth - 1].want_key)
        return map_key(f, v);
    if (begin_item(f) < 0)
        return -1;
    // an empty document is a null root scalar: nothing to print
    if (f->depth == 0 && n == 0 && ev->data.scalar.plain_implicit)
        return 0;
    emit(f, v, n);
    return 0;
}

static int on_event(struct flat *f, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        f->doc++;
        f->depth = 0;
        return 0;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        if (f->depth > 0 && f->st[f->depth - 1].map && f->st[f->depth - 1].want_key) {
            snprintf(f->err, sizeof(f->err), "a mapping key that is not a scalar");
            return -1;
        }
        return open_collection(f, ev->type == YAML_MAPPING_START_EVENT);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        close_collection(f);
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(f, ev);
    case YAML_ALIAS_EVENT:
        snprintf(f->err, sizeof(f->err), "aliases (*%s) are not supported",
                 (const char *)ev->data.alias.anchor);
        return -1;
    default:
        return 0;
    }
}

static int flatten(struct flat *f, FILE *in)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        snprintf(f->err, sizeof(f->err), "cannot initialise the YAML parser");
        return -1;
    }
    yaml_parser_set_input_file(&p, in);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(f->err, sizeof(f->err), "line %zu column %zu: %s %s", p.problem_mark.line + 1,
                     p.problem_mark.column + 1, p.problem ? p.problem : "parse error",
                     p.context ? p.context : "");
            rc = -1;
            break;
        }
        unsigned long line = (unsigned long)ev.start_mark.line + 1;
        rc = on_event(f, &ev);
        if (rc < 0) {
            char why[sizeof(f->err)];
            snprintf(why, sizeof(why), "%s", f->err);
            snprintf(f->err, sizeof(f->err), "line %lu: %.480s", line, why);
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    // after an error: free the keys of the collections still open
    while (f->depth > 0) {
        struct frame *t = &f->st[--f->depth];
        for (size_t i = 0; i < t->nkeys; i++)
            free(t->keys[i]);
    }
    yaml_parser_delete(&p);
    return rc;
}

int main(int argc, char **argv)
{
    static struct flat f;
    f.doc = -1;
    int a = 1;
    if (argc == 5 && !strcmp(argv[1], "-g")) {
        char *end;
        f.get_doc = strtol(argv[2], &end, 10);
        if (*end || end == argv[2]) {
            fprintf(stderr, "yamlflat: bad document number '%s'\n", argv[2]);
            return 2;
        }
        f.get_path = argv[3];
        a = 4;
    } else if (argc != 2) {
        fprintf(stderr, "usage: yamlflat FILE | yamlflat -g DOC PATH FILE  (FILE - = stdin)\n");
        return 2;
    }
    f.file = argv[a];
    FILE *in = strcmp(f.file, "-") ? fopen(f.file, "rb") : stdin;
    if (!in) {
        fprintf(stderr, "yamlflat: cannot open %s: %s\n", f.file, strerror(errno));
        return 1;
    }
    int rc = flatten(&f, in);
    if (in != stdin)
        fclose(in);
    if (rc < 0) {
        fprintf(stderr, "yamlflat: %s: %s\n", f.file, f.err);
        return 1;
    }
    if (f.get_path && !f.found) {
        fprintf(stderr, "yamlflat: %s: no value at document %ld path %s\n", f.file, f.get_doc,
                f.get_path);
        return 1;
    }
    return 0;
}
