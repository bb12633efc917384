#ifndef LM_TRUST_H
#define LM_TRUST_H
/*
 * trust: which secret a recipe may make loramake send, and where.
 *
 * A recipe folder may come from anyone (a git clone, a zip from a
 * forum), and an engine entry names both the variable whose value is sent
 * as the API key (key_env:) and the server it goes to (url:). So for
 * every engine a node of the build uses:
 *
 *   - key_env must be a variable its engine type documents
 *     (compiler/engine_type.c), or a name ending in _KEY or _TOKEN that
 *     the user allows outside the recipe: --allow-key-env NAME or
 *     LORAMAKE_ALLOW_KEY_ENV=NAME[,NAME...];
 *   - url must pass the URL policy (base/url.h: https, or plain http to
 *     loopback) and be loopback, or one of the type's own hosts (or a
 *     subdomain), or a host the user allows: --allow-host HOST or
 *     LORAMAKE_ALLOW_HOSTS=HOST[,HOST...].
 *
 * Anything else is a recipe error at its location, for plan as for build,
 * before a request is made. The allowances come only from the user's
 * environment and command line (struct trust), never from the recipe
 * folder.
 */
#include <stdbool.h>

#include "base/diag.h"

struct dag;
struct engine_decl;

/* What the user allows beyond the defaults: lists of names separated by
 * ',' or spaces; NULL or "" for none. */
struct trust {
	const char *hosts;     /* LORAMAKE_ALLOW_HOSTS + --allow-host */
	const char *key_envs;  /* LORAMAKE_ALLOW_KEY_ENV + --allow-key-env */
};

/* Check every engine a node of dag runs on; errors go to d. Returns the
 * number of errors. t may be NULL (nothing allowed beyond the defaults). */
int trust_check(const struct dag *dag, const struct trust *t, struct diag *d);

/* The host the engine's requests go to (url:, or the type's default
 * URL), into out; "" for an engine that sends none. */
void trust_host(const struct engine_decl *e, char *out, size_t outsz);

#endif
