/*
 * clip: tokens of a caption as CLIP's tokenizer would count them, estimated
 * to err high.
 *
 * CLIP lowercases the text and splits it with the pattern
 *
 *     <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d
 *     |[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 *
 * then byte-pair-encodes each piece with its vocabulary's merges. The
 * split here is CLIP's; the merges are not shipped, so each piece counts
 * what piece_count says, meant to be no fewer than BPE leaves for the words
 * captions are made of. Unicode case and letter classes are those of
 * Latin, Greek and Cyrillic, other scripts approximated (letters, except
 * punctuation and symbol blocks); curly quotes count as straight ones.
 */
#include <stdbool.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "clip.h"

enum cclass { C_SPACE, C_LETTER, C_DIGIT, C_OTHER };

#define WORD_ONE 5   /* letters a run may have and still count one token */
#define WORD_SPAN 4  /* letters a token covers in a longer run */

/*
 * Tokens of one piece (its bytes, lowercased already), an estimate that
 * errs high. CLIP's BPE merges (its vocabulary) are not shipped with
 * loramake, so the count is what BPE leaves at most for the pieces a
 * caption is made of: a run of ASCII letters of up to WORD_ONE letters is
 * one token (CLIP's vocabulary holds the everyday words whole), a longer
 * run one token per WORD_SPAN letters begun; any other piece (punctuation,
 * a non-ASCII word) one token a byte, which BPE can never exceed.
 * docs/quality.md gives the figures this was measured against.
 */
static size_t
piece_count(const unsigned char *p, size_t len, enum cclass c)
{
	if (c == C_LETTER) {
		for (size_t i = 0; i < len; i++)
			if (p[i] >= 0x80)
				return len;
		return len <= WORD_ONE ? 1 : (len + WORD_SPAN - 1) / WORD_SPAN;
	}
	return len;
}

/* ---- characters ---- */

/* Decode one code point at p (len >= 1); invalid bytes are U+FFFD, one byte. */
static uint32_t
decode(const unsigned char *p, size_t len, size_t *used)
{
	unsigned need = p[0] >= 0xf0 ? 3 : p[0] >= 0xe0 ? 2 : p[0] >= 0xc0 ? 1 : 0;
	uint32_t cp = need ? p[0] & (0x3f >> need) : p[0];

	*used = 1;
	if (p[0] >= 0x80 && (!need || p[0] > 0xf4 || len <= need))
		return 0xfffd;
	for (unsigned i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*used = need + 1;
	return cp;
}

/* Python's str.lower() for Latin, Greek and Cyrillic; else cp. */
static uint32_t
lower_cp(uint32_t cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xc0 && cp <= 0xde && cp != 0xd7))
		return cp + 0x20;
	if ((cp >= 0x100 && cp <= 0x137 && cp != 0x130) ||
	    (cp >= 0x14a && cp <= 0x177))
		return cp | 1;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		return cp & 1 ? cp + 1 : cp;
	if (cp == 0x178)
		return 0xff;
	if ((cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) ||
	    (cp >= 0x410 && cp <= 0x42f))
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 0x50;
	return cp;
}

/* What ftfy's uncurl_quotes does: curly quotes become straight ones. */
static uint32_t
straighten(uint32_t cp)
{
	if (cp >= 0x2018 && cp <= 0x201b)
		return '\'';
	if (cp >= 0x201c && cp <= 0x201f)
		return '"';
	return cp;
}

static bool
is_space(uint32_t cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1c && cp <= 0x1f) ||
	       cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* \p{N} for the numbers a caption may hold: digits, superscripts, ½. */
static bool
is_number(uint32_t cp)
{
	return (cp >= '0' && cp <= '9') || cp == 0xb2 || cp == 0xb3 ||
	       cp == 0xb9 || (cp >= 0xbc && cp <= 0xbe) || cp == 0x2070 ||
	       (cp >= 0x2074 && cp <= 0x2079) || (cp >= 0x2080 && cp <= 0x2089) ||
	       (cp >= 0x2150 && cp <= 0x2189) || (cp >= 0x2460 && cp <= 0x249b) ||
	       (cp >= 0xff10 && cp <= 0xff19);
}

/* \p{L}: exact below U+0530, by blocks above. */
static bool
is_letter(uint32_t cp)
{
	if (cp < 0x80)
		return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
	if (cp < 0x100)
		return cp == 0xaa || cp == 0xb5 || cp == 0xba ||
		       (cp >= 0xc0 && cp != 0xd7 && cp != 0xf7);
	if (cp < 0x370)
		return cp <= 0x2c1 || (cp >= 0x2c6 && cp <= 0x2d1) ||
		       (cp >= 0x2e0 && cp <= 0x2e4) || cp == 0x2ec || cp == 0x2ee;
	if (cp < 0x400)
		return cp != 0x375 && cp != 0x37e && cp != 0x384 && cp != 0x385 &&
		       cp != 0x387 && cp != 0x3f6;
	if (cp < 0x530)
		return cp < 0x482 || cp > 0x489;
	if (cp >= 0x2000 && cp < 0x2c00) /* punctuation, symbols, arrows */
		return false;
	if ((cp >= 0x2e00 && cp < 0x3040) || (cp >= 0xd800 && cp < 0xf900) ||
	    (cp >= 0xfe00 && cp < 0xfe70) || (cp >= 0x1f000 && cp < 0x20000) ||
	    cp == 0xfffd)
		return false;
	if (cp >= 0xff00 && cp < 0xfff0)
		return ((cp | 0x20) >= 0xff41 && (cp | 0x20) <= 0xff5a) ||
		       (cp >= 0xff66 && cp <= 0xffdc);
	return true;
}

static enum cclass
class_of(uint32_t cp)
{
	if (is_space(cp))
		return C_SPACE;
	if (is_letter(cp))
		return C_LETTER;
	if (is_number(cp))
		return C_DIGIT;
	return C_OTHER;
}

/* ---- pieces ---- */

/* The text lowercased and straightened, as UTF-8, with one class a byte. */
static void
normalise(const char *text, struct buf *out, struct buf *cls)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), used;

	for (size_t i = 0; i < len; i += used) {
		uint32_t cp = lower_cp(straighten(decode(p + i, len - i, &used)));
		char u[4];
		size_t n;

		if (cp == 0xfffd && used == 1) { /* an invalid byte, as it is */
			u[0] = (char)p[i];
			n = 1;
		} else if (cp < 0x80) {
			u[0] = (char)cp, n = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | cp >> 6), n = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | cp >> 12), n = 3;
		} else {
			u[0] = (char)(0xf0 | cp >> 18), n = 4;
		}
		for (size_t k = 1; k < n; k++)
			u[k] = (char)(0x80 | ((cp >> (6 * (n - 1 - k))) & 0x3f));
		buf_add(out, u, n);
		for (size_t k = 0; k < n; k++)
			buf_addc(cls, (char)class_of(cp));
	}
}

/* Length of the contraction or special token at s, or 0. */
static size_t
fixed_piece(const char *s)
{
	static const char *const fixed[] = { "<|startoftext|>", "<|endoftext|>",
		"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", NULL };

	for (const char *const *f = fixed; *f; f++)
		if (strncmp(s, *f, strlen(*f)) == 0)
			return strlen(*f);
	return 0;
}

size_t
clip_tokens(const char *text)
{
	struct buf t, cls;
	size_t n = 2; /* start and end of text */

	buf_init(&t);
	buf_init(&cls);
	normalise(text, &t, &cls);
	for (size_t i = 0, end; i < t.len; i = end) {
		enum cclass c = (enum cclass)cls.data[i];
		size_t fixed = fixed_piece(t.data + i);

		end = i + 1;
		if (c == C_SPACE)
			continue;
		if (fixed) {
			end = i + fixed;
			n += 1; /* a contraction or a special token */
			continue;
		}
		if (c == C_DIGIT)
			while (end < t.len && ((unsigned char)t.data[end] & 0xc0) == 0x80)
				end++;
		else
			while (end < t.len && cls.data[end] == (char)c)
				end++;
		n += c == C_DIGIT ? 1
			    : piece_count((unsigned char *)t.data + i, end - i, c);
	}
	buf_release(&t);
	buf_release(&cls);
	return n;
}
