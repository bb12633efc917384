/*
 * pbwire: the protobuf wire format (pbwire.h).
 */
#include "pbwire.h"

#define VARINT_MAX_BYTES 10
#define FIELD_MAX ((1u << 29) - 1)

static void
put_varint(struct buf *b, uint64_t v)
{
	uint8_t out[VARINT_MAX_BYTES];
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, out, n);
}

void
pb_put_varint_field(struct buf *b, unsigned num, uint64_t v)
{
	put_varint(b, (uint64_t)num << 3 | PB_VARINT);
	put_varint(b, v);
}

void
pb_put_len_field(struct buf *b, unsigned num, const void *data, size_t len)
{
	put_varint(b, (uint64_t)num << 3 | PB_LEN);
	put_varint(b, len);
	buf_add(b, data, len);
}

void
pb_reader_init(struct pb_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
}

/* A varint at r->p: 0, or -1 if it runs past the end or 10 bytes. */
static int
get_varint(struct pb_reader *r, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < VARINT_MAX_BYTES && r->p < r->end; i++) {
		uint8_t c = *r->p++;

		*v |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

/* n little-endian bytes into *v. */
static int
get_fixed(struct pb_reader *r, size_t n, uint64_t *v)
{
	if ((size_t)(r->end - r->p) < n)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return 0;
}

static int
get_value(struct pb_reader *r, struct pb_field *f)
{
	switch (f->wire) {
	case PB_VARINT:
		return get_varint(r, &f->v);
	case PB_FIXED64:
		return get_fixed(r, 8, &f->v);
	case PB_FIXED32:
		return get_fixed(r, 4, &f->v);
	case PB_LEN:
		if (get_varint(r, &f->v) < 0 || f->v > (uint64_t)(r->end - r->p))
			return -1;
		f->data = r->p;
		f->len = (size_t)f->v;
		r->p += f->len;
		return 0;
	}
	return -1;
}

int
pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t tag;

	if (r->p == r->end)
		return 0;
	*f = (struct pb_field){ 0 };
	if (get_varint(r, &tag) < 0 || tag >> 3 == 0 || tag >> 3 > FIELD_MAX)
		goto bad;
	f->num = (unsigned)(tag >> 3);
	f->wire = (enum pb_wire)(tag & 7);
	if (f->wire != PB_VARINT && f->wire != PB_FIXED64 && f->wire != PB_LEN &&
	    f->wire != PB_FIXED32)
		goto bad;
	if (get_value(r, f) < 0)
		goto bad;
	return 1;
bad:
	r->p = r->end = NULL; /* no more fields: the caller refuses */
	return -1;
}
