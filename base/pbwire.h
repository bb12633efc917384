#ifndef LM_PBWIRE_H
#define LM_PBWIRE_H
/*
 * pbwire: the protobuf wire format (protobuf.dev/programming-guides/
 * encoding), the little of it the team cache needs to speak to
 * bazel-remote, whose /ac/ entries are Bazel ActionResult messages: a
 * message is fields, each a varint tag (field number << 3 | wire type)
 * and a value: a varint (type 0), 8 bytes (1), a varint length and that
 * many bytes (2: strings, bytes, nested messages), 4 bytes (5). Groups
 * (3, 4) are long deprecated and refused.
 *
 * The reader takes bytes from a server: it never reads past the end, and
 * a varint over 10 bytes, a length past the end, a field number 0 or a
 * wire type it does not know is malformed. It does not know messages:
 * the caller picks the fields it wants and skips the rest, as protobuf
 * does with fields it does not know.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum pb_wire { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

/* Append field num as a varint, or as length-delimited bytes. */
void pb_put_varint_field(struct buf *b, unsigned num, uint64_t v);
void pb_put_len_field(struct buf *b, unsigned num, const void *data, size_t len);

struct pb_reader {
	const uint8_t *p, *end;
};

struct pb_field {
	unsigned num;                /* field number, >= 1 */
	enum pb_wire wire;
	uint64_t v;                  /* PB_VARINT, PB_FIXED64, PB_FIXED32 */
	const uint8_t *data;         /* PB_LEN: the bytes (into the input) */
	size_t len;
};

void pb_reader_init(struct pb_reader *r, const void *data, size_t len);
/* The next field into *f: 1, 0 at the end, -1 when the bytes are not a
 * well-formed message (the reader stops there). */
int pb_next(struct pb_reader *r, struct pb_field *f);

#endif
