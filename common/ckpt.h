/*
 * ckpt.h — the file container of rldt: checkpoints, datasets and policies share it.
 *
 * Layout (little-endian): a 48-byte header {magic "RLDT", kind (4 chars, e.g. "CKPT", "DSET"),
 * format version u32, section count u32, layout hash u64, total file size u64, reserved},
 * a table of sections {name[48], offset u64, size u64}, the section payloads (each 64-byte
 * aligned), and a trailing CRC-32C of everything before it. Files are written to a temporary
 * name, fsynced, renamed over the final name, and the directory is fsynced: a reader sees the
 * old file or the new one, never a torn one. Loading checks magic, kind, version, size
 * (truncation), checksum (corruption), section bounds and alignment and, if asked, the layout
 * hash.
 *
 * A writer borrows the payload pointers until ckpt_writer_save(); a loaded struct ckpt owns
 * its bytes. Neither is thread-safe; different objects may be used on different threads.
 */
#ifndef RL_CKPT_H
#define RL_CKPT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_NAME_MAX 48
#define CKPT_FORMAT_VERSION 1

struct ckpt_writer;
struct ckpt;

/* New writer for a file of `kind` (exactly 4 characters) and network layout hash. */
struct ckpt_writer *ckpt_writer_new(const char *kind, uint64_t layout_hash);

/* Free a writer (NULL is fine); sets *w = NULL. */
void ckpt_writer_destroy(struct ckpt_writer **w);

/*
 * Add a section (borrowed: data must stay valid until save). Names are unique, at most
 * CKPT_NAME_MAX-1 bytes. Returns 0, -EINVAL (bad or duplicate name) or -ENOMEM.
 */
int ckpt_add(struct ckpt_writer *w, const char *name, const void *data, size_t size);

/* Write atomically to path. Returns 0 or -errno with a reason in err. */
int ckpt_writer_save(struct ckpt_writer *w, const char *path, char *err, size_t errlen);

/*
 * Load and verify a file of `kind`. If layout_hash is non-zero it must match. Returns a new
 * object (caller owns; free with ckpt_destroy) or NULL with a one-line reason in err
 * ("truncated", "checksum mismatch", "format version", "layout", ...).
 */
struct ckpt *ckpt_load(const char *path, const char *kind, uint64_t layout_hash, char *err,
                       size_t errlen);

void ckpt_destroy(struct ckpt **c);

/* Layout hash recorded in the file. */
uint64_t ckpt_layout_hash(const struct ckpt *c);

/*
 * Section payload, or NULL if absent; *size receives its length (borrowed, valid until destroy).
 * Payloads are at least 16-byte aligned (offsets that are not multiples of 64 are refused).
 */
const void *ckpt_get(const struct ckpt *c, const char *name, size_t *size);

/*
 * Copy a section of exactly `size` bytes into dst. Returns 0, -ENOENT if absent, -EPROTO if its
 * size differs (err names the section and both sizes).
 */
int ckpt_read(const struct ckpt *c, const char *name, void *dst, size_t size, char *err,
              size_t errlen);

#endif
