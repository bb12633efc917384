#ifndef LM_REMOTE_RECORD_H
#define LM_REMOTE_RECORD_H
/*
 * remote: the action record of the team cache (docs/remote-cache.md),
 * what `GET /ac/NAME` answers and `PUT /ac/NAME` sends, NAME being
 * remote_ac_name of the node's key. The servers speak Bazel's layout, and
 * bazel-remote takes only a Bazel ActionResult (a protobuf) under /ac/,
 * so the record is one, minimal:
 *
 *   ActionResult {
 *     output_files (2): per object, in the node's order: OutputFile {
 *       path (1): the object's xxh3-128 name (32 hex digits)
 *       digest (2): Digest { hash (1): SHA-256 hex, size_bytes (2) } }
 *     stdout_raw (5): "loramake action v1\n"
 *                     "KEY<TAB>OBJ[,OBJ...]<TAB>USD<TAB>SEED<TAB>REQUEST\n"
 *   }
 *
 * The text is two lines, each ending in '\n', nothing after; the second
 * is a line of the action log (actions.h), checked field by field the
 * same way. The digests name each object on the wire (`/cas/SHA256`).
 * A record comes from a server anyone with write access filled: it is
 * read strictly (at most REMOTE_RECORD_MAX bytes, a well-formed message,
 * one text with no NUL, the exact header, the key it was asked for, one
 * output file per object, each the object it says) and taken whole or
 * not at all; fields it does not use are skipped, as protobuf does
 * (bazel-remote adds execution_metadata). The objects it names are
 * checked when they arrive (runtime/rcache.c), not here.
 */
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/sha256.h"
#include "base/util.h"

#define REMOTE_RECORD_VERSION 1
/* 100 objects and 100 request ids of 128 bytes fit with room to spare */
#define REMOTE_RECORD_MAX 65536
/* the largest object a record may name (a body over it is cut off) */
#define REMOTE_OBJECT_MAX (64u << 20)

/* How an object is named on the wire. */
struct remote_object {
	struct sha256 cas;           /* the SHA-256 of its bytes: /cas/HEX */
	uint64_t size;
};

struct remote_record {
	struct action *action;       /* the action line */
	struct remote_object *objs;  /* one per action->outs[i] */
};

/* The /ac/ name of key: the SHA-256 of its 32 hex digits, in hex into
 * out[SHA256_HEX_LEN + 1] (`printf %s KEY | sha256sum`). */
void remote_ac_name(const struct hash *key, char *out);

/* rec's record, objs[i] naming rec->outs[i], appended to b. */
void remote_record_format(const struct action *rec,
			  const struct remote_object *objs, struct buf *b);

/*
 * Parse the record data[0..len) that the server gave for key. The record,
 * to free with remote_record_free, or NULL with err saying what is wrong
 * (the server's bytes are not quoted).
 */
struct remote_record *remote_record_parse(const void *data, size_t len,
					  const struct hash *key,
					  struct error *err);
void remote_record_free(struct remote_record *r);

#endif
