#ifndef LM_REMOTE_RECORD_H
#define LM_REMOTE_RECORD_H
/*
 * remote: the action record of the team cache (docs/remote-cache.md),
 * what `GET /ac/KEY` answers and `PUT /ac/KEY` sends:
 *
 *   loramake action v1
 *   KEY<TAB>OBJ[,OBJ...]<TAB>USD<TAB>SEED<TAB>REQUEST
 *
 * Two lines, each ending in '\n', nothing after; the second is a line of
 * the action log (actions.h), checked field by field the same way. A
 * record comes from a server anyone with write access filled: it is read
 * strictly (at most REMOTE_RECORD_MAX bytes, no NUL, the exact header,
 * the key it was asked for) and taken whole or not at all. The objects
 * it names are checked when they arrive (runtime/rcache.c), not here.
 */
#include <stddef.h>

#include "actions.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/util.h"

#define REMOTE_RECORD_VERSION 1
/* 100 objects and 100 request ids of 128 bytes fit with room to spare */
#define REMOTE_RECORD_MAX 16384

/* rec's record, appended to b. */
void remote_record_format(const struct action *rec, struct buf *b);

/*
 * Parse the record text[0..len) that the server gave for key. The record,
 * to free with actions_free_record, or NULL with err saying what is wrong
 * (the server's bytes are not quoted).
 */
struct action *remote_record_parse(const char *text, size_t len,
				   const struct hash *key, struct error *err);

#endif
