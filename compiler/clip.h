#ifndef LM_CLIP_H
#define LM_CLIP_H
/*
 * clip: tokens of a text as CLIP's tokenizer counts them.
 *
 * SDXL reads a caption with two CLIP text encoders (ViT-L and OpenCLIP
 * ViT-bigG); both use OpenAI CLIP's byte-level BPE and read 77 tokens,
 * the start and end tokens included, and cut the rest. Flux's CLIP-L does
 * too. The count here is CLIP's own: the text is lowercased and split by
 * CLIP's pre-tokenisation pattern (contractions, letter runs, single
 * digits, runs of anything else), and each piece is merged with CLIP's
 * 48,894 BPE merges (compiler/clip_merges.c, generated from CLIP's
 * vocabulary file by compiler/clip_merges.py). docs/quality.md says where
 * the count can differ from CLIP's.
 *
 * Symbols: b < 256 is byte b; 256 + b is byte b ending a word (CLIP's
 * "</w>"); merge i makes symbol 512 + i.
 */
#include <stddef.h>
#include <stdint.h>

#define CLIP_MERGES 48894
#define CLIP_WINDOW 77 /* tokens a CLIP text encoder reads */

/* Merge i joins clip_merges[i][0] and clip_merges[i][1]; lower i first. */
extern const uint16_t clip_merges[CLIP_MERGES][2];

/*
 * CLIP tokens of text, with the start and end tokens ("" is 2). text is
 * UTF-8; invalid bytes count one token each. Thread-safe (the merge table
 * is indexed once, on first use).
 */
size_t clip_tokens(const char *text);

#endif
