#ifndef LM_RCACHE_H
#define LM_RCACHE_H
/*
 * rcache: the team cache on a plain HTTP server, in Bazel's remote-cache
 * layout (docs/remote-cache.md): `/ac/NAME` holds a node's action record
 * (cache/remote.h: a minimal Bazel ActionResult), NAME the SHA-256 of the
 * node's key; `/cas/HASH` an object, HASH the SHA-256 of its bytes (the
 * record maps each to its xxh3-128 name in the store). nginx with WebDAV
 * and bazel-remote (which takes only SHA-256 names, and checks them)
 * serve it as it is.
 *
 * The cache is named by the user only: $LORAMAKE_REMOTE_CACHE (https, or
 * plain http to loopback, base/url.c's policy), an optional header from
 * $LORAMAKE_REMOTE_CACHE_HEADER ("Name: value", sent only to the cache's
 * origin, never shown: its value is redacted from every message), and
 * --remote-cache off|read|readwrite (readwrite once a cache is named).
 *
 * Nothing the server answers is trusted: a record is parsed strictly, an
 * object is kept only if its bytes hash to its name and (an image) it
 * decodes; a record naming an object the server lacks is a miss. A server
 * that cannot be reached, or answers what the protocol does not allow,
 * is warned about once and left alone for the rest of the command: the
 * build goes on locally. Everything runs on the build's loop; nothing
 * blocks it.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/url.h"
#include "cache/actions.h"
#include "cache/store.h"
#include "compiler/dag.h"
#include "loop.h"
#include "workers.h"

enum rcache_mode { RCACHE_OFF, RCACHE_READ, RCACHE_READWRITE };

struct rcache_conf {
	enum rcache_mode mode;  /* OFF when no cache is named */
	char *base;             /* the cache's URL, no trailing '/' */
	struct url origin;      /* every request is bound to it */
	char *header;           /* "Name: value", or NULL */
	char *secret;           /* the header's value: never shown */
};

/*
 * Read the environment and --remote-cache's value (flag, NULL when not
 * given). -1 with err (a usage error: exit 2) when the URL breaks the
 * policy, the header is not one line of "Name: value", or flag asks for
 * a cache none names. The error never quotes the header.
 */
int rcache_conf_load(struct rcache_conf *c, const char *flag, struct error *err);
void rcache_conf_release(struct rcache_conf *c);

/* Does the team cache hold node n's output? Every image node: a package
 * is assembled, and a caption written, locally for free. */
bool rcache_holds(const struct node *n);

/* ---- in a build ---- */

struct rcache;

struct rcache *rcache_new(const struct rcache_conf *c, struct loop *l,
			  struct workers *w, struct store *store,
			  const char *actions_path);
/* Wait for uploads in flight, and report what was read and written
 * ("remote cache: 12 hits, ...") when the cache was used. */
void rcache_drain(struct rcache *rc);
/* rcache_drain if not done, and free. */
void rcache_free(struct rcache *rc);

/* Was the cache given up (warned about)? Uploads may then be missing: a
 * build leaves no no-op stamp, so that the next one offers them again.
 * Final after rcache_drain. */
bool rcache_down(const struct rcache *rc);

/* May the build ask the cache now (reads on, the server not given up)? */
bool rcache_reads(const struct rcache *rc);

/*
 * A hit: the record, with its objects checked and in the store and the
 * record appended to the action log; NULL: a miss (run the node). Called
 * on the loop thread, never from within rcache_fetch.
 */
typedef void (*rcache_fetch_fn)(void *ctx, const struct action *hit);
void rcache_fetch(struct rcache *rc, const struct node *n, rcache_fetch_fn done,
		  void *ctx);

/* Upload a finished node's objects, then its record, in the background
 * (readwrite only; rec is copied). */
void rcache_upload(struct rcache *rc, const struct node *n,
		   const struct action *rec);

/* A node found in the local store: uploaded as rcache_upload does, but
 * only if the cache lacks it (one HEAD /ac/NAME first, in the same queue:
 * a cache named after the nodes were made gets them; readwrite only). */
void rcache_offer(struct rcache *rc, const struct node *n,
		  const struct action *rec);

/* Will a build with c upload (a cache named, readwrite)? Then a build
 * with nothing to run still runs, to offer its local hits. */
bool rcache_shares(const struct rcache_conf *c);

/* Requests in flight or queued (the build's loop runs until none). */
bool rcache_busy(const struct rcache *rc);

/* ---- in a plan ---- */

/*
 * Which of keys[0..n) the cache holds: one HEAD /ac/KEY each, many at
 * once on a loop of its own, all done within budget_ms (an unreachable
 * cache costs a plan at most that). found[i] is set for each hit; keys
 * not answered in time count as not held. -1 with err when the cache
 * could not be asked (unreachable, refused, an error status), else the
 * number of hits.
 */
long rcache_probe(const struct rcache_conf *c, const struct hash *keys,
		  size_t n, bool *found, int budget_ms, int verbose,
		  struct error *err);

#endif
