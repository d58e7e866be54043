/* amf0.h — AMF0 values, as RTMP commands and FLV script data carry them.
 *
 * Decoding reads through a GstByteReader, so every read is bounded and can
 * fail; nesting depth and the number of values per decode are limited, so a
 * hostile message cannot blow the stack or the heap. Encoding appends to a
 * GByteArray and cannot fail except for values no AMF0 byte form exists for.
 */
#ifndef TOURCAST_AMF0_H
#define TOURCAST_AMF0_H

#include <glib.h>
/* The inline readers cast to unaligned pointers where the CPU allows it; we
 * call the library's out-of-line ones instead, so no unaligned load is ever
 * compiled into our code (UBSan holds us to that). */
#ifndef GST_BYTE_READER_DISABLE_INLINES
#define GST_BYTE_READER_DISABLE_INLINES
#endif
#include <gst/base/gstbytereader.h>

typedef enum {
  AMF0_NUMBER = 0x00,
  AMF0_BOOLEAN = 0x01,
  AMF0_STRING = 0x02,
  AMF0_OBJECT = 0x03,
  AMF0_NULL = 0x05,
  AMF0_UNDEFINED = 0x06,
  AMF0_ECMA_ARRAY = 0x08,
  AMF0_OBJECT_END = 0x09, /* only a terminator on the wire, never a value */
  AMF0_STRICT_ARRAY = 0x0A,
  AMF0_DATE = 0x0B,
  AMF0_LONG_STRING = 0x0C,
} amf0_type_t;

typedef enum {
  AMF0_OK = 0,
  AMF0_ERR_TRUNCATED = -1, /* the bytes end inside a value */
  AMF0_ERR_INVALID = -2,   /* unknown or unsupported marker, stray object-end */
  AMF0_ERR_DEPTH = -3,     /* objects/arrays nested deeper than AMF0_MAX_DEPTH */
  AMF0_ERR_LIMIT = -4,     /* more than AMF0_MAX_VALUES values in one decode */
} amf0_status_t;

/* Limits per amf0_decode() call. A real connect or onMetaData has a few dozen
 * values and depth 2; these leave room and still cap what one call allocates. */
#define AMF0_MAX_DEPTH 16
#define AMF0_MAX_VALUES 4096

typedef struct amf0_value amf0_value_t;

typedef struct {
  char *name; /* NUL-terminated copy; may hold NULs, name_len is the truth */
  gsize name_len;
  amf0_value_t *value; /* owned */
} amf0_prop_t;

/* A decoded or constructed value. Fields unused by `type` are zero/NULL. */
struct amf0_value {
  amf0_type_t type;
  double number;    /* NUMBER; DATE: milliseconds since the epoch */
  gint16 tz;        /* DATE: time zone offset in minutes (AMF0 says "should be 0") */
  gboolean boolean; /* BOOLEAN */
  char *str;        /* STRING, LONG_STRING: NUL-terminated copy */
  gsize len;        /* STRING, LONG_STRING: bytes, without the NUL */
  GPtrArray *props; /* OBJECT, ECMA_ARRAY: amf0_prop_t *, in wire order */
  GPtrArray *items; /* STRICT_ARRAY: amf0_value_t * */
};

/* Decodes one value at the reader's position and advances past it. On
 * success *out is a new value the caller frees with amf0_value_free(); on
 * failure *out is NULL and the reader's position is unspecified. A missing
 * object-end at the very end of the bytes is tolerated for ECMA arrays only
 * (some encoders omit it in onMetaData). */
amf0_status_t amf0_decode(GstByteReader *br, amf0_value_t **out);
/* A short English name for a status, for logs. */
const char *amf0_status_str(amf0_status_t st);

/* Constructors; the caller owns the result. `s` is copied. */
amf0_value_t *amf0_value_new(amf0_type_t type);
amf0_value_t *amf0_value_new_number(double v);
amf0_value_t *amf0_value_new_boolean(gboolean v);
amf0_value_t *amf0_value_new_string(const char *s);
/* Frees a value and everything under it. NULL is a no-op. */
void amf0_value_free(amf0_value_t *v);

/* Appends a property to an OBJECT or ECMA_ARRAY; takes ownership of `value`,
 * copies `name`. */
void amf0_object_append(amf0_value_t *obj, const char *name, amf0_value_t *value);
/* Appends an item to a STRICT_ARRAY; takes ownership of `item`. */
void amf0_array_append(amf0_value_t *arr, amf0_value_t *item);
/* The first property called `name` of an OBJECT or ECMA_ARRAY, borrowed;
 * NULL if absent or `obj` is not one of those (or NULL). */
const amf0_value_t *amf0_object_get(const amf0_value_t *obj, const char *name);
/* The string of a STRING or LONG_STRING value, borrowed; NULL otherwise. */
const char *amf0_value_get_string(const amf0_value_t *v);
/* Deep equality; numbers compare by bit pattern so NaN equals itself. */
gboolean amf0_value_equal(const amf0_value_t *a, const amf0_value_t *b);

/* Appends the wire form of `v`. Returns FALSE (with some bytes possibly
 * appended) if `v` nests deeper than AMF0_MAX_DEPTH, has a property name over
 * 65535 bytes or is an OBJECT_END. Strings over 65535 bytes go out as long
 * strings. */
gboolean amf0_encode(GByteArray *out, const amf0_value_t *v);

/* Writers for building commands without a value tree. */
void amf0_write_number(GByteArray *out, double v);
void amf0_write_boolean(GByteArray *out, gboolean v);
void amf0_write_string(GByteArray *out, const char *s);
void amf0_write_null(GByteArray *out);
void amf0_write_object_start(GByteArray *out);
/* A property name inside an object (no marker); names over 65535 bytes are cut. */
void amf0_write_key(GByteArray *out, const char *name);
void amf0_write_object_end(GByteArray *out);
/* Shorthands for one property: key then value. */
void amf0_write_prop_string(GByteArray *out, const char *name, const char *s);
void amf0_write_prop_number(GByteArray *out, const char *name, double v);

#endif
