#ifndef LM_ARENA_H
#define LM_ARENA_H
/*
 * arena: a bump allocator for objects that live as long as one compile
 * (the YAML tree, the recipe, the DAG). Everything is freed at once by
 * arena_release, so compile code never frees piecemeal.
 */
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* n zeroed bytes, aligned for any type; dies on out-of-memory. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
