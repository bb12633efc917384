#ifndef LM_GEMINI_H
#define LM_GEMINI_H
/*
 * gemini: the pure part of the Gemini engine (runtime/engines/gemini.c),
 * declared for tests/unit/test_gemini.c: what a generateContent answer
 * holds.
 */
#include <stdbool.h>
#include <stddef.h>

enum gemini_outcome {
	GEMINI_IMAGE,      /* an image part: mime and data are set */
	GEMINI_BLOCKED,    /* refused (promptFeedback.blockReason, or a
			      candidate's safety finishReason): why says so */
	GEMINI_NO_IMAGE,   /* answered without an image (text only, no
			      candidate, another finishReason): why */
	GEMINI_UNREADABLE, /* not the JSON of an answer (cut short?) */
	GEMINI_JSON,       /* gemini_parse_json: data is the answer's JSON,
			      checked and rewritten (only the question's
			      members, keys sorted) */
	GEMINI_BAD_JSON,   /* gemini_parse_json: the text is not the JSON
			      asked for: why says what is wrong */
};

struct gemini_answer {
	enum gemini_outcome outcome;
	char *mime;        /* GEMINI_IMAGE: "image/png"; malloc'd */
	char *data;        /* its base64, as sent (GEMINI_JSON: the JSON
			      text); malloc'd */
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

struct vision_question;

/*
 * Read a 200 answer to a structured-output call asking question q
 * (compiler/vision.h): the first text part that is not a thought, at
 * most VISION_MAX_ANSWER bytes, must be one JSON object holding exactly
 * q's required members (no other, none twice), each of its type and
 * size, no control characters in a text. The answer is untrusted: it is
 * rewritten from the checked values only. Blocks as gemini_parse_answer.
 */
void gemini_parse_json(const char *body, size_t len, const char *secret,
		       const struct vision_question *q, struct gemini_answer *a);

/* Seconds of the RetryInfo detail's retryDelay ("37s", "1.5s") in an
 * error body, or -1 when it has none. */
double gemini_retry_delay(const char *body, size_t len);

#endif
