/*
 * tree: parse the listing of a multi-file output.
 */
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "base/util.h"
#include "tree.h"

int
tree_parse(const char *text, struct tree_entry **out, size_t *n)
{
	struct tree_entry *v = NULL;
	size_t len = 0, cap = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n'), *tab = strchr(p, '\t');
		char hex[HASH_HEX_LEN + 1];

		if (!nl || !tab || tab > nl || tab - p != HASH_HEX_LEN)
			goto bad;
		memcpy(hex, p, HASH_HEX_LEN);
		hex[HASH_HEX_LEN] = '\0';
		LM_GROW(v, len + 1, cap);
		v[len].path = xstrndup(tab + 1, (size_t)(nl - tab - 1));
		if (!hash_parse(hex, &v[len].obj) || !path_is_contained(v[len].path)) {
			len++;
			goto bad;
		}
		len++;
		p = nl + 1;
	}
	*out = v;
	*n = len;
	return 0;
bad:
	tree_free(v, len);
	return -1;
}

void
tree_free(struct tree_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
