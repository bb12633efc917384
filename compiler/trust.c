/*
 * trust: key_env and url of the engines a build uses (see trust.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/url.h"
#include "dag.h"
#include "engine_type.h"
#include "trust.h"

/* Is word one of list's names (separated by ',' or spaces)? */
static bool
listed(const char *list, const char *word, bool nocase)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == n && len &&
		    (nocase ? strncasecmp(p, word, n) : strncmp(p, word, n)) == 0)
			return true;
		p += len;
	}
	return false;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* "FAL_KEY" or "FAL_KEY or FAL_API_KEY": what type t documents. */
static void
documented_keys(const struct engine_type *t, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; t->key_envs && t->key_envs[i] && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
					i ? " or " : "", t->key_envs[i]);
	if (!out[0])
		snprintf(out, outsz, "no key at all");
}

/* "queue.fal.run, fal.run, ...": type t's own hosts. */
static void
vendor_hosts(const struct engine_type *t, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; t->hosts && t->hosts[i] && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
					i ? ", " : "", t->hosts[i]);
	if (!out[0])
		snprintf(out, outsz, "none: it runs on your machine");
}

static void
check_key_env(const struct engine_decl *e, const struct engine_type *t,
	      const struct trust *tr, struct diag *d)
{
	struct loc loc = e->key_env_loc.line ? e->key_env_loc : e->loc;
	bool keyish = ends_with(e->key_env, "_KEY") ||
		      ends_with(e->key_env, "_TOKEN");
	char doc[160];

	if (engine_type_documents_key(t, e->key_env) ||
	    (keyish && tr && listed(tr->key_envs, e->key_env, false)))
		return;
	documented_keys(t, doc, sizeof(doc));
	if (keyish)
		diag_error(d, loc,
			   "engine '%s' would send $%s as its API key, but %s documents %s; if that variable is meant for it, allow it outside the recipe: --allow-key-env %s, or LORAMAKE_ALLOW_KEY_ENV=%s",
			   e->name, e->key_env, e->type, doc, e->key_env, e->key_env);
	else
		diag_error(d, loc,
			   "engine '%s' would send $%s as its API key: only a variable %s documents (%s), or one ending in _KEY or _TOKEN that you allow with --allow-key-env, may be sent",
			   e->name, e->key_env, e->type, doc);
}

static void
check_url(const struct engine_decl *e, const struct engine_type *t,
	  const struct trust *tr, struct diag *d)
{
	struct loc loc = e->url_loc.line ? e->url_loc : e->loc;
	struct url u;
	struct error err;
	char hosts[256], what[160];

	if (url_check(e->url, &u, &err) < 0) {
		diag_error(d, loc, "engine '%s': url: %s", e->name, err.msg);
		return;
	}
	if (url_is_loopback(&u) || url_host_in(&u, t->hosts) ||
	    (tr && listed(tr->hosts, u.host, true)))
		return;
	vendor_hosts(t, hosts, sizeof(hosts));
	if (e->key_env)
		snprintf(what, sizeof(what), "$%s and the input images", e->key_env);
	else
		snprintf(what, sizeof(what), "the input images");
	diag_error(d, loc,
		   "engine '%s' would send %s to '%s', which is neither this machine nor %s's own (%s); if you trust that host, allow it outside the recipe: --allow-host %s, or LORAMAKE_ALLOW_HOSTS=%s",
		   e->name, what, u.host, e->type, hosts, u.host, u.host);
}

/* Does a node of dag run on engine e? */
static bool
used(const struct dag *dag, const struct engine_decl *e)
{
	for (size_t i = 0; i < dag->nnodes; i++)
		if (dag->nodes[i]->engine == e)
			return true;
	return false;
}

int
trust_check(const struct dag *dag, const struct trust *t, struct diag *d)
{
	const struct recipe *r = &dag->recipe;
	unsigned before = d->nerrors;

	for (size_t i = 0; i < r->nengines; i++) {
		const struct engine_decl *e = &r->engines[i];
		const struct engine_type *type = engine_type_find(e->type);

		if (!type || !used(dag, e))
			continue;
		if (e->key_env)
			check_key_env(e, type, t, d);
		if (e->url && *e->url)
			check_url(e, type, t, d);
	}
	return (int)(d->nerrors - before);
}

void
trust_host(const struct engine_decl *e, char *out, size_t outsz)
{
	const struct engine_type *t = engine_type_find(e->type);
	const char *url = e->url && *e->url ? e->url : t ? t->default_url : NULL;
	struct url u;

	out[0] = '\0';
	if (url && url_parse(url, &u, NULL) == 0)
		url_origin(&u, out, outsz);
}
