/*
 * tblog.h — a TensorBoard event file writer (scalars and images). Each process start writes a new
 * file `events.out.tfevents.<secs>.<host>.rldt` in a directory: TFRecord records (uint64
 * length, masked CRC-32C of the length, the serialised Event, masked CRC-32C of the data), the
 * first one the "brain.Event:2" file version. Records are buffered and written whole: when the
 * buffer fills, at the first tblog_scalar TBLOG_FLUSH_SECS after the last flush, and on
 * tblog_flush/tblog_close; a crash loses at most the buffer and never leaves a half record
 * before a complete one. Not thread-safe: one owner thread per writer.
 */
#ifndef RL_TBLOG_H
#define RL_TBLOG_H

#include <stddef.h>
#include <stdint.h>

#define TBLOG_FLUSH_SECS 5.0 /* buffered records reach the file at least this often */
#define TBLOG_TAG_MAX 255    /* longer tags are cut to this many bytes */

struct tblog;

/*
 * Create a new event file in the existing directory dir (a name that already exists gets the
 * next second in its name) and write the file-version record to it. Returns the writer (caller
 * owns, free with tblog_close()), or NULL with a message in err.
 */
struct tblog *tblog_open(const char *dir, char *err, size_t errlen);

/* The path of the event file (borrowed, valid until tblog_close). */
const char *tblog_path(const struct tblog *t);

/*
 * Append one scalar event: tag (cut to TBLOG_TAG_MAX bytes), step (rldt uses env steps) and
 * value (stored as float, as TensorBoard's simple_value), stamped with the wall-clock time.
 * Flushes when the buffer is full or TBLOG_FLUSH_SECS have passed since the last flush.
 * Returns 0, or a negative errno from writing (the writer then stops writing; later calls
 * return the same error).
 */
int tblog_scalar(struct tblog *t, const char *tag, int64_t step, double value);

/*
 * Append one image event: tag (cut as above), step, and an encoded image (PNG, or GIF: the
 * image dashboard plays animated GIFs) of width x height pixels, colorspace 3 (RGB). The
 * buffered records and this one go to the file at once (an image may exceed the buffer).
 * Returns 0, -EINVAL for an empty image or one over 512 MiB, -ENOMEM, or a negative errno from
 * writing (sticky as above).
 */
int tblog_image(struct tblog *t, const char *tag, int64_t step, int width, int height,
                const uint8_t *data, size_t len);

/* Write the buffered records to the file. Returns 0 or a negative errno. */
int tblog_flush(struct tblog *t);

/* Flush, close the file and free the writer; sets *pt = NULL. Nullable: pt, *pt. */
void tblog_close(struct tblog **pt);

/* The TFRecord checksum of buf[0..n): CRC-32C rotated right by 15 bits plus 0xa282ead8. */
uint32_t tblog_masked_crc(const void *buf, size_t n);

#endif
