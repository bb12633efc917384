#ifndef LM_UTIL_H
#define LM_UTIL_H
/*
 * util: the vocabulary every module may use. Allocators that die on
 * out-of-memory (nobody checks for NULL), overflow-checked array growth,
 * and the process-level messages warn()/fatal()/BUG().
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LM_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocate or die: each returns memory the caller frees with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) LM_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap);

/*
 * Grow array p (holding *cap elements) so that it can hold at least n.
 * Growth is geometric, so appending one at a time is amortised O(1).
 */
#define LM_GROW(p, n, cap)                                                    \
	do {                                                                  \
		if ((n) > (cap)) {                                            \
			(cap) = (cap) ? (cap) * 2 : 8;                        \
			if ((cap) < (n))                                      \
				(cap) = (n);                                  \
			(p) = xreallocarray((p), (cap), sizeof(*(p)));        \
		}                                                             \
	} while (0)

/* Program name used as a prefix for messages ("loramake"). */
extern const char *lm_progname;

/*
 * warn() prints "loramake: msg" to stderr. A format ending in ':' gets
 * ": strerror(errno)" appended (samurai's convention).
 */
void warn(const char *fmt, ...) LM_PRINTF(1, 2);
/* warn(), then exit(status). */
_Noreturn void fatal(int status, const char *fmt, ...) LM_PRINTF(2, 3);
/* For impossible states: prints file:line and aborts. */
#define BUG(...) lm_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void lm_bug(const char *file, int line, const char *fmt, ...)
	LM_PRINTF(3, 4);

/*
 * A runtime error (I/O, HTTP, images) carried back to the caller without
 * allocation. Functions that fail return -1 and fill one of these.
 */
struct error {
	char msg[512];
};
/* Fill err (may be NULL) and return -1. A trailing ':' adds strerror. */
int error_set(struct error *err, const char *fmt, ...) LM_PRINTF(2, 3);

/* Monotonic clock in milliseconds. */
int64_t now_ms(void);

/* Parse a whole string as an integer or a number; false if it is not one. */
bool parse_int64(const char *s, int64_t *out);
bool parse_double(const char *s, double *out);

/*
 * The shortest decimal text that reads back as d ("0.5", "0.55", "1e+20").
 * Used wherever a number enters a key, so 0.50 and .5 hash alike.
 */
void format_double(char *out, size_t outsz, double d);

/*
 * The word of list (n entries, or up to a NULL entry when n is SIZE_MAX)
 * closest to word by edit distance, if close enough to be a typo; else
 * NULL. Used for "did you mean" hints.
 */
const char *closest_word(const char *word, const char *const *list, size_t n);

#endif
