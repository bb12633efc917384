#ifndef LM_GEMINI_H
#define LM_GEMINI_H
/*
 * gemini: the pure part of the Gemini engine (runtime/engines/gemini.c),
 * declared for tests/unit/test_gemini.c: what a generateContent answer
 * holds.
 */
#include <stddef.h>

enum gemini_outcome {
	GEMINI_IMAGE,      /* an image part: mime and data are set */
	GEMINI_BLOCKED,    /* refused (promptFeedback.blockReason, or a
			      candidate's safety finishReason): why says so */
	GEMINI_NO_IMAGE,   /* answered without an image (text only, no
			      candidate, another finishReason): why */
	GEMINI_UNREADABLE, /* not the JSON of an answer (cut short?) */
};

struct gemini_answer {
	enum gemini_outcome outcome;
	char *mime;        /* GEMINI_IMAGE: "image/png"; malloc'd */
	char *data;        /* its base64, as sent; malloc'd */
	char *id;          /* responseId when it is a text_is_token, else
			      NULL; malloc'd */
	char why[320];     /* the other outcomes: the service's reason, one
			      line, cleaned (secret redacted) */
};

/*
 * Read a 200 answer of generateContent: the first image part of the
 * first candidate that is not a thought (thought parts are the model's
 * drafts), else why there is none. secret is redacted from why. The
 * caller frees with gemini_answer_release.
 */
void gemini_parse_answer(const char *body, size_t len, const char *secret,
			 struct gemini_answer *a);
void gemini_answer_release(struct gemini_answer *a);

/* Seconds of the RetryInfo detail's retryDelay ("37s", "1.5s") in an
 * error body, or -1 when it has none. */
double gemini_retry_delay(const char *body, size_t len);

#endif
