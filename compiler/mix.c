/*
 * mix: target shares of attribute values (mix.h).
 */
#include <string.h>
#include <strings.h>

#include "caption.h"
#include "mix.h"

int
mix_slot(const char *attr)
{
	return caption_attr_slot(attr);
}

bool
mix_matches(const struct mix_target *m, const char *value)
{
	char emotion[256];

	if (mix_slot(m->attr) == ATTR_EXPRESSION) {
		if (!value)
			return strcasecmp(m->value, "neutral") == 0;
		caption_emotion(value, emotion, sizeof(emotion));
		return strcasecmp(emotion, m->value) == 0 ||
		       strcasecmp(value, m->value) == 0;
	}
	return value && strcasecmp(value, m->value) == 0;
}

double
mix_share(const struct mix_target *m, const char *const *const *attrs,
	  size_t n, size_t *count)
{
	int slot = mix_slot(m->attr);

	*count = 0;
	for (size_t i = 0; slot >= 0 && i < n; i++)
		*count += mix_matches(m, attrs[i][slot]);
	return n ? 100.0 * (double)*count / (double)n : 0;
}
