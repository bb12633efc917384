#ifndef LM_FAL_H
#define LM_FAL_H
/*
 * fal: the pure parts of the fal.ai engine (runtime/engines/fal.c), split
 * out so tests/unit/test_fal.c can check them without a network: the input
 * mapping per endpoint, the camera table of the multiple-angles endpoint,
 * error rendering, base64, and the retry and poll schedules.
 *
 * Only fal.c, its test and a1111.c (whose server speaks FastAPI errors
 * too: fal_detail) include this header. It speaks in C strings;
 * JSON stays inside fal.c (the test parses what it gets back).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"

struct node;

#define FAL_DEFAULT_REST "https://rest.fal.ai"
#define FAL_UPLOAD_OVER (4u << 20)   /* inputs bigger go through storage */

/*
 * The JSON input object for one candidate (1-based) of node n on
 * n->model, as compact text the caller frees. images are the input image
 * URLs (data URIs or uploaded file URLs), in input order. The mapping is
 * per endpoint, with a generic fallback; the recipe's params override
 * every mapped field. NULL with err (bad param value, unmapped angle).
 */
char *fal_input_json(const struct node *n, const char *const *images,
		     size_t nimages, int candidate, struct error *err);

/* The seed of a candidate: n->seed + (candidate - 1), mod 2^32. */
uint32_t fal_seed(int64_t seed, int candidate);

/*
 * Render the service's words from an error body into out (always
 * NUL-terminated): `detail` as a string, or as a list of {loc, msg}
 * shown as "prompt: Field required; image_urls[0]: Invalid URL" (a
 * leading "body" in loc is dropped); else `error` or `message`. Empty
 * when the body says nothing usable (HTML, empty). One line, cleaned
 * (text_clean: secret redacted, controls escaped) before it is cut.
 */
void fal_detail(const char *body, size_t len, const char *secret, char *out,
		size_t outsz);

/* Standard base64 (with padding) of data; the caller frees the text. */
char *fal_base64(const void *data, size_t len);
/* Decode base64 (whitespace ignored) onto out; -1 if it is not base64. */
int fal_unbase64(const char *s, size_t len, struct buf *out);

/*
 * Milliseconds to wait before try number attempt + 1, after attempt
 * (1-based) failed: 500 ms doubling per attempt up to 30 s, scaled by
 * 0.75 + 0.5 * jitter (jitter in [0, 1)). A Retry-After of retry_after
 * seconds (>= 0; < 0 means none) wins, stretched by up to 25 % with the
 * same jitter and capped at 5 minutes.
 */
int64_t fal_backoff_ms(int attempt, double retry_after, double jitter);

/*
 * Milliseconds to the next status poll of a request submitted elapsed_ms
 * ago: 15 % of the elapsed time, at least 25 ms (the first poll after
 * 100 ms) and at most 5 s. So a finished job is seen within about 15 %
 * of its run time, and a long job is asked about every 5 s.
 */
int64_t fal_poll_ms(int64_t elapsed_ms);

/* Is an HTTP status worth retrying (429, 500, 502, 503, 504)? A 504 whose
 * x-fal-request-timeout-type is "user" is not (timeout_type may be NULL). */
bool fal_retryable(long status, const char *timeout_type);

#endif
